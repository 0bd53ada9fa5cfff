import { ErrorCode, SwampError } from "../errors/mod.ts";
import { creatingError } from "./fs_errors.ts";
import {
  configFile,
  readRepoConfig,
  renderRepoConfig,
  type RepoConfig,
  repoDirs,
  stateDir,
  type StoreChoice,
} from "./repo.ts";

export interface InitResult {
  path: string;
  store: StoreChoice;
  created: string[];
  alreadyInitialized: boolean;
}

const gitignoreLine = `${stateDir}/`;

/**
 * Creates the repository layout. Idempotent: existing files are left as they
 * are, and a second run reports that nothing changed.
 */
export async function initRepo(path: string, store: StoreChoice | undefined): Promise<InitResult> {
  try {
    return await initAt(path, store);
  } catch (error) {
    throw await creatingError(error, path);
  }
}

async function initAt(path: string, store: StoreChoice | undefined): Promise<InitResult> {
  const created: string[] = [];
  let existing: StoreChoice | undefined;
  try {
    existing = (await readRepoConfig(path)).store;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (existing && store && existing !== store) {
    throw new SwampError(
      ErrorCode.ALREADY_EXISTS,
      `${path} is already a swamp repository using the ${existing} store`,
      {
        hint:
          `changing the store of an existing repository is not supported; keep --store ${existing}`,
      },
    );
  }
  const chosen = existing ?? store ?? "file";
  await Deno.mkdir(path, { recursive: true });
  for (const dir of [...repoDirs, stateDir]) {
    if (!(await exists(`${path}/${dir}`))) {
      await Deno.mkdir(`${path}/${dir}`, { recursive: true });
      created.push(`${dir}/`);
    }
  }
  if (!existing) {
    await writeNew(`${path}/${configFile}`, renderRepoConfig({ store: chosen }));
    created.push(configFile);
  }
  if (await ensureGitignore(`${path}/.gitignore`)) created.push(".gitignore");
  return { path, store: chosen, created, alreadyInitialized: created.length === 0 };
}

async function ensureGitignore(file: string): Promise<boolean> {
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (text.split("\n").some((line) => line.trim() === gitignoreLine || line.trim() === stateDir)) {
    return false;
  }
  const prefix = text === "" || text.endsWith("\n") ? text : `${text}\n`;
  await writeNew(file, `${prefix}# swamp runtime state\n${gitignoreLine}\n`, true);
  return true;
}

/** Writes via a temporary file and a rename, so a crash never leaves half a file. */
export async function writeNew(file: string, text: string, replace = false): Promise<void> {
  const temp = `${file}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, text, { createNew: true });
  try {
    if (replace) {
      await Deno.rename(temp, file);
    } else {
      // A hard link fails if the target exists, so two writers never clobber each other.
      await Deno.link(temp, file);
      await Deno.remove(temp);
    }
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new SwampError(ErrorCode.ALREADY_EXISTS, `${file} already exists`, { cause: error });
    }
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Records the PostgreSQL store's settings (DSN, password source) in a
 * repository whose .swamp.yaml says `store: postgres`, replacing the file
 * whole (a crash leaves the old file or the new).
 */
export async function configureRepoStore(
  root: string,
  settings: Pick<RepoConfig, "dsn" | "passwordFile" | "password">,
): Promise<void> {
  const config = await readRepoConfig(root);
  if (config.store !== "postgres") {
    throw new SwampError(
      ErrorCode.USAGE,
      `${root} uses the ${config.store} store, which takes no DSN or password`,
      { hint: "pass --dsn and --password-file only with --store postgres" },
    );
  }
  const next = { ...config };
  for (const key of ["dsn", "passwordFile", "password"] as const) {
    if (settings[key] !== undefined) next[key] = settings[key];
  }
  await writeNew(`${root}/${configFile}`, renderRepoConfig(next), true);
}
