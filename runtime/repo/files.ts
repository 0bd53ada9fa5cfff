/**
 * Files under `dir` (relative to `root`) whose names end in one of
 * `extensions`, as sorted paths relative to `root`. A missing directory is
 * simply empty. Read synchronously: a repository's workflow and model
 * directories hold few entries, and a server lists them on every submission,
 * where each asynchronous read costs a trip to the thread pool.
 */
export function listFiles(
  root: string,
  dir: string,
  extensions: readonly string[],
): Promise<string[]> {
  try {
    return Promise.resolve(listFilesSync(root, dir, extensions));
  } catch (error) {
    return Promise.reject(error);
  }
}

function listFilesSync(root: string, dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    try {
      for (const entry of Deno.readDirSync(`${root}/${current}`)) {
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
