// The `deno run` flags every extension subprocess starts with, reading a
// schema (mod.ts) or running a method (runner.ts): no config, lock file,
// remote or npm modules; zod only through the import map; reads only of what
// is named; a heap limit. What differs is passed in: the readable paths, the
// one address a method may reach, the variables it may read.
export interface SandboxFlags {
  /** The import map, as a `data:` URL. */
  importMap: string;
  readable: string[];
  memoryMb: number;
  /** `host:port` of the capability service, for a method. */
  net?: string;
  /** Variable names a method may read. */
  env?: string[];
}

export function sandboxFlags(flags: SandboxFlags): string[] {
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    "--no-lock",
    "--no-remote",
    "--no-npm",
    `--import-map=${flags.importMap}`,
    `--allow-read=${flags.readable.join(",")}`,
    ...(flags.net ? [`--allow-net=${flags.net}`] : []),
    ...(flags.env?.length ? [`--allow-env=${flags.env.join(",")}`] : []),
    `--v8-flags=--max-old-space-size=${flags.memoryMb}`,
  ];
}
