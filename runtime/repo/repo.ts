import { ErrorCode, SwampError } from "../errors/mod.ts";
import { openingError } from "./fs_errors.ts";

/** The file that marks a repository root and records its settings. */
export const configFile = ".swamp.yaml";
export const stateDir = ".swamp";
export const repoDirs = ["workflows", "models", "extensions/models"] as const;

export type StoreChoice = "file" | "sqlite";

export interface RepoConfig {
  store: StoreChoice;
}

/** Walks up from `start` to the nearest directory holding `.swamp.yaml`. */
export async function findRepoRoot(start: string): Promise<string> {
  let dir = start.replace(/\/+$/, "") || "/";
  for (;;) {
    try {
      await Deno.stat(`${dir}/${configFile}`);
      return dir;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw await openingError(error, dir);
    }
    const parent = dir.slice(0, dir.lastIndexOf("/")) || "/";
    if (parent === dir) break;
    dir = parent;
  }
  throw new SwampError(ErrorCode.REPO_NOT_FOUND, `no swamp repository at or above ${start}`, {
    hint: "run `swamp repo init` to create one here, or pass --repo DIR",
  });
}

/** Reads `.swamp.yaml`; its format is two flat keys, so no YAML parser is loaded for it. */
export async function readRepoConfig(root: string): Promise<RepoConfig> {
  const text = await Deno.readTextFile(`${root}/${configFile}`);
  const store = /^store:\s*["']?([^\s"']+)["']?\s*$/m.exec(text)?.[1] ?? "file";
  if (store !== "file" && store !== "sqlite") {
    throw new SwampError(ErrorCode.USAGE, `${configFile} names an unknown store \`${store}\``, {
      hint: "set `store: file` or `store: sqlite`",
    });
  }
  return { store };
}

export function renderRepoConfig(config: RepoConfig): string {
  return `# swamp repository settings\nversion: 1\nstore: ${config.store}\n`;
}
