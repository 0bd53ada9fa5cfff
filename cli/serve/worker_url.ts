// Where a thread's module is: beside the file that starts it in the sources,
// or beside the bundle's chunk (cli/swamp bundles each thread's module as an
// entry point of its own, which lands in serve/ beside the chunk that holds
// the starting code, or in the same folder).

/** The URL of the module `name` (e.g. "run_worker") for a thread started from `from` (its import.meta.url). */
export function threadModuleUrl(name: string, from: string): string {
  if (!from.endsWith(".js")) return new URL(`./${name}.ts`, from).href;
  for (const candidate of [`./serve/${name}.js`, `./${name}.js`]) {
    const url = new URL(candidate, from);
    try {
      Deno.statSync(url);
      return url.href;
    } catch {
      // not in this layout
    }
  }
  throw new Error(`the bundle has no ${name}.js beside ${from}`);
}
