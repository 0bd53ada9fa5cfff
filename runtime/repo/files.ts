/**
 * Files under `dir` (relative to `root`) whose names end in one of
 * `extensions`, as sorted paths relative to `root`. A missing directory is
 * simply empty.
 */
export async function listFiles(
  root: string,
  dir: string,
  extensions: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    try {
      for await (const entry of Deno.readDir(`${root}/${current}`)) {
        const path = `${current}/${entry.name}`;
        if (entry.isDirectory) pending.push(path);
        else if (entry.isFile && extensions.some((ext) => entry.name.endsWith(ext))) out.push(path);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return out.sort();
}
