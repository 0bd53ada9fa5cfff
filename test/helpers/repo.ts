import { localRepoService, randomIds, repoLocator, systemPrincipal } from "../../runtime/mod.ts";

export interface TempRepo {
  root: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A fresh repository made by the real `repo init` code, removed on dispose. */
export async function makeTempRepo(
  files: Record<string, string | Uint8Array> = {},
): Promise<TempRepo> {
  const root = await Deno.makeTempDir({ prefix: "swamp-test-" });
  await localRepoService(repoLocator(root), randomIds).initRepo({ path: root }, {
    principal: systemPrincipal,
    signal: new AbortController().signal,
  });
  await writeFiles(root, files);
  return {
    root,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

export async function writeFiles(root: string, files: Record<string, string | Uint8Array>) {
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
}
