import { ErrorCode, SwampError } from "../errors/mod.ts";
import { openingError } from "./fs_errors.ts";

/** The file that marks a repository root and records its settings. */
export const configFile = ".swamp.yaml";
export const stateDir = ".swamp";
export const repoDirs = ["workflows", "models", "extensions/models"] as const;

export type StoreChoice = "file" | "sqlite" | "postgres";

export const storeChoices: readonly StoreChoice[] = ["file", "sqlite", "postgres"];

export interface RepoConfig {
  store: StoreChoice;
  /**
   * The PostgreSQL store's DSN (`store: postgres`), never with a password;
   * SWAMP_STORE_DSN overrides it.
   */
  dsn?: string;
  /** A file holding the PostgreSQL password (relative to the repository, or absolute). */
  passwordFile?: string;
  /** Where else the password comes from: `vault:VAULT/KEY` (the repository's local vault). */
  password?: string;
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

/**
 * Reads `.swamp.yaml`; its format is a few flat `key: value` lines, so no
 * YAML parser is loaded for it.
 */
export async function readRepoConfig(root: string): Promise<RepoConfig> {
  const text = await Deno.readTextFile(`${root}/${configFile}`);
  const value = (key: string) =>
    new RegExp(`^${key}:[ \\t]*(?:"([^"]*)"|'([^']*)'|(\\S+))[ \\t]*(?:#.*)?$`, "m")
      .exec(text)?.slice(1).find((part) => part !== undefined);
  const store = value("store") ?? "file";
  if (!(storeChoices as string[]).includes(store)) {
    throw new SwampError(ErrorCode.USAGE, `${configFile} names an unknown store \`${store}\``, {
      hint: "set `store: file`, `store: sqlite` or `store: postgres`",
    });
  }
  const config: RepoConfig = { store: store as StoreChoice };
  for (const key of ["dsn", "passwordFile", "password"] as const) {
    const found = value(key);
    if (found !== undefined) config[key] = found;
  }
  return config;
}

/** Quoted when YAML would read the text as something else. */
const yamlText = (text: string) => /^[\w./@:%?=&+~-]+$/.test(text) ? text : JSON.stringify(text);

export function renderRepoConfig(config: RepoConfig): string {
  let text = `# swamp repository settings\nversion: 1\nstore: ${config.store}\n`;
  if (config.dsn !== undefined) {
    text += `# the PostgreSQL store (no password here: see passwordFile)\ndsn: ${
      yamlText(config.dsn)
    }\n`;
  }
  if (config.passwordFile !== undefined) text += `passwordFile: ${yamlText(config.passwordFile)}\n`;
  if (config.password !== undefined) text += `password: ${yamlText(config.password)}\n`;
  return text;
}
