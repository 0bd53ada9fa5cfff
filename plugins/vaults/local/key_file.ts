// The vault key: 32 random bytes (AES-256), base64 in one file outside the
// repository, readable by its owner only. Where it is: SWAMP_VAULT_KEY_FILE,
// or $XDG_STATE_HOME/swamp/vault-keys/<key id>.key (XDG_STATE_HOME defaults
// to ~/.local/state), the key id being a random id kept in vaults/.key-id so
// every clone of the repository looks for the same file.
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";

export const keyIdFile = ".key-id";

/** Where the key file of a repository is, from the environment given. */
export function keyFilePath(
  keyId: string,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): string {
  const explicit = env("SWAMP_VAULT_KEY_FILE");
  if (explicit) return explicit;
  const home = env("HOME");
  const state = env("XDG_STATE_HOME") || (home ? `${home}/.local/state` : undefined);
  if (!state) {
    throw new SwampError(ErrorCode.VAULT_UNREADABLE, "cannot tell where the vault key file is", {
      hint: "set HOME, XDG_STATE_HOME or SWAMP_VAULT_KEY_FILE",
    });
  }
  return `${state}/swamp/vault-keys/${keyId}.key`;
}

/** The repository's key id (vaults/.key-id); made when `create` is true and there is none. */
export async function readKeyId(vaultDir: string, create: boolean): Promise<string | undefined> {
  const file = `${vaultDir}/${keyIdFile}`;
  try {
    const id = (await Deno.readTextFile(file)).trim();
    if (/^[A-Za-z0-9-]{8,64}$/.test(id)) return id;
    throw new SwampError(ErrorCode.VAULT_UNREADABLE, `${file} does not hold a key id`, {
      hint: "restore it from version control",
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound) || !create) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }
  const id = crypto.randomUUID();
  await Deno.mkdir(vaultDir, { recursive: true });
  try {
    await Deno.writeTextFile(file, `${id}\n`, { createNew: true });
    return id;
  } catch (error) {
    // Another process made it first: use theirs.
    if (error instanceof Deno.errors.AlreadyExists) return readKeyId(vaultDir, false);
    throw error;
  }
}

/** Refuses a key file inside the repository, or one group or other users can read. */
async function checkSafe(path: string, repoRoot: string): Promise<void> {
  const real = await Deno.realPath(path);
  const root = await Deno.realPath(repoRoot);
  if (real === root || real.startsWith(`${root}/`)) {
    throw new SwampError(
      ErrorCode.VAULT_KEY_INSECURE,
      `the vault key file ${path} is inside the repository`,
      { hint: "keep the key file outside the repository (SWAMP_VAULT_KEY_FILE), never commit it" },
    );
  }
  const info = await Deno.stat(real);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new SwampError(
      ErrorCode.VAULT_KEY_INSECURE,
      `the vault key file ${path} can be read or written by other users (mode ${
        (info.mode & 0o777).toString(8).padStart(4, "0")
      })`,
      { hint: `run: chmod 600 ${path}` },
    );
  }
}

/** Reads the key; a missing or malformed file is `vault_unreadable`, an unsafe one `vault_key_insecure`. */
export async function readKey(path: string, repoRoot: string): Promise<Uint8Array> {
  let text: string;
  try {
    await checkSafe(path, repoRoot);
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SwampError(ErrorCode.VAULT_UNREADABLE, `there is no vault key file at ${path}`, {
        hint:
          "copy the key file the vaults were written with to that path (mode 0600), or point SWAMP_VAULT_KEY_FILE at it",
      });
    }
    throw error;
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
  } catch {
    bytes = new Uint8Array();
  }
  if (bytes.length !== 32) {
    throw new SwampError(ErrorCode.VAULT_UNREADABLE, `the vault key file ${path} is not a key`, {
      hint: "it must hold the base64 of 32 bytes, as `swamp vault create` wrote it",
    });
  }
  return bytes;
}

/**
 * The key, made first if the file does not exist: its folder created 0700,
 * the file 0600, written once (a racing process's key wins and is used).
 */
export async function readOrCreateKey(path: string, repoRoot: string): Promise<Uint8Array> {
  try {
    await Deno.lstat(path);
    return await readKey(path, repoRoot);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const key = crypto.getRandomValues(new Uint8Array(32));
  try {
    const file = await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
    try {
      await Deno.chmod(path, 0o600); // whatever the umask
      await file.write(new TextEncoder().encode(`${btoa(String.fromCharCode(...key))}\n`));
      await file.sync();
    } finally {
      file.close();
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  return await readKey(path, repoRoot);
}
