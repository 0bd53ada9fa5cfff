// The local vault (docs/reference/vault.md): encrypted files in the
// repository's vaults/ folder, the key outside the repository. Implements the
// runtime's SecretSource port for `vault.get` and the management operations
// of `swamp vault`. Every change holds the vault's lock (flock(2) on
// .swamp/locks/vault-NAME.lock) from read to rename, so two processes
// putting keys at once lose neither, and every write is a temporary file,
// fsynced, renamed over the old one: a crash leaves the old vault or the new.
import { ErrorCode, type SecretSource, SwampError } from "../../../runtime/mod.ts";
import { keyFilePath, readKey, readKeyId, readOrCreateKey } from "./key_file.ts";
import { openVault, sealVault } from "./vault_file.ts";

export { keyFilePath } from "./key_file.ts";

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const keyPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface LocalVaultOptions {
  /** Environment lookups (SWAMP_VAULT_KEY_FILE, XDG_STATE_HOME, HOME); the process's by default. */
  env?: (name: string) => string | undefined;
}

export class LocalVault implements SecretSource {
  readonly dir: string;
  private readonly env: (name: string) => string | undefined;

  constructor(readonly repoRoot: string, options: LocalVaultOptions = {}) {
    this.dir = `${repoRoot}/vaults`;
    this.env = options.env ?? ((n) => Deno.env.get(n));
  }

  /** The key file's path, or undefined while the repository has no vault key id yet. */
  async keyFile(): Promise<string | undefined> {
    const explicit = this.env("SWAMP_VAULT_KEY_FILE");
    if (explicit) return explicit;
    const id = await readKeyId(this.dir, false);
    return id === undefined ? undefined : keyFilePath(id, this.env);
  }

  /** Vault names, sorted. */
  async list(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (entry.isFile && entry.name.endsWith(".vault") && !entry.name.startsWith(".")) {
          names.push(entry.name.slice(0, -".vault".length));
        }
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return names.sort();
  }

  /** Key names of one vault, sorted (opening it: the key file must be right). */
  async keys(vault: string): Promise<string[]> {
    return Object.keys(await this.open(vault)).sort();
  }

  async getSecret(vault: string, key: string): Promise<string> {
    checkName(vault, "vault name", namePattern);
    const secrets = await this.open(vault);
    if (!Object.hasOwn(secrets, key)) {
      throw new SwampError(ErrorCode.SECRET_NOT_FOUND, `vault ${vault} has no key ${key}`, {
        hint: `see its keys with: swamp vault list ${vault}`,
      });
    }
    return secrets[key];
  }

  /** Makes an empty vault (and the key file, if there is none). */
  async create(vault: string): Promise<{ keyFile: string; keyCreated: boolean }> {
    checkName(vault, "vault name", namePattern);
    const id = await readKeyId(this.dir, true);
    const keyFile = this.env("SWAMP_VAULT_KEY_FILE") || keyFilePath(id!, this.env);
    const existed = await exists(keyFile);
    return await this.locked(vault, async () => {
      if (await exists(this.file(vault))) {
        throw new SwampError(ErrorCode.ALREADY_EXISTS, `vault ${vault} already exists`, {
          hint: `add secrets with: swamp vault put ${vault} KEY`,
        });
      }
      const key = await readOrCreateKey(keyFile, this.repoRoot);
      await this.write(vault, await sealVault(vault, {}, key));
      return { keyFile, keyCreated: !existed };
    });
  }

  /** Sets one secret; true when the key was new. */
  async put(vault: string, key: string, value: string): Promise<boolean> {
    checkName(key, "key", keyPattern);
    if (value === "") {
      throw new SwampError(ErrorCode.USAGE, "the secret is empty", {
        hint: `pipe the value on stdin: printf %s "$VALUE" | swamp vault put ${vault} ${key}`,
      });
    }
    return await this.change(vault, (secrets) => {
      const added = !Object.hasOwn(secrets, key);
      secrets[key] = value;
      return added;
    });
  }

  /** Removes one secret. */
  async remove(vault: string, key: string): Promise<void> {
    await this.change(vault, (secrets) => {
      if (!Object.hasOwn(secrets, key)) {
        throw new SwampError(ErrorCode.SECRET_NOT_FOUND, `vault ${vault} has no key ${key}`, {
          hint: `see its keys with: swamp vault list ${vault}`,
        });
      }
      delete secrets[key];
    });
  }

  /** Removes a whole vault file; returns how many secrets it held if it could be opened. */
  async removeVault(vault: string): Promise<void> {
    checkName(vault, "vault name", namePattern);
    await this.locked(vault, async () => {
      try {
        await Deno.remove(this.file(vault));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) throw notFound(vault);
        throw error;
      }
    });
  }

  private async change<T>(vault: string, edit: (secrets: Record<string, string>) => T) {
    checkName(vault, "vault name", namePattern);
    return await this.locked(vault, async () => {
      const key = await this.key();
      const text = await this.read(vault);
      const secrets = await openVault(vault, text, key, this.file(vault));
      const result = edit(secrets);
      await this.write(vault, await sealVault(vault, secrets, key));
      return result;
    });
  }

  private async open(vault: string): Promise<Record<string, string>> {
    checkName(vault, "vault name", namePattern);
    const text = await this.read(vault);
    return await openVault(vault, text, await this.key(), this.file(vault));
  }

  private async key(): Promise<Uint8Array> {
    const path = await this.keyFile();
    if (path === undefined) {
      throw new SwampError(
        ErrorCode.VAULT_UNREADABLE,
        `${this.dir}/.key-id is missing, so the vault key file cannot be found`,
        { hint: "restore vaults/.key-id from version control, or set SWAMP_VAULT_KEY_FILE" },
      );
    }
    return await readKey(path, this.repoRoot);
  }

  private file(vault: string): string {
    return `${this.dir}/${vault}.vault`;
  }

  private async read(vault: string): Promise<string> {
    try {
      return await Deno.readTextFile(this.file(vault));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw notFound(vault);
      throw error;
    }
  }

  /** Temporary file, fsync, rename, fsync of the folder. */
  private async write(vault: string, text: string): Promise<void> {
    const target = this.file(vault);
    const temp = `${this.dir}/.${vault}.${crypto.randomUUID()}.tmp`;
    try {
      const file = await Deno.open(temp, { createNew: true, write: true, mode: 0o644 });
      try {
        await file.write(new TextEncoder().encode(text));
        await file.sync();
      } finally {
        file.close();
      }
      await Deno.rename(temp, target);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    const dir = await Deno.open(this.dir, { read: true });
    try {
      await dir.sync();
    } catch {
      // Not every file system syncs a folder; the rename is still atomic.
    } finally {
      dir.close();
    }
  }

  private async locked<T>(vault: string, body: () => Promise<T>): Promise<T> {
    const dir = `${this.repoRoot}/.swamp/locks`;
    await Deno.mkdir(dir, { recursive: true });
    const lock = await Deno.open(`${dir}/vault-${vault}.lock`, { create: true, write: true });
    try {
      await lock.lock(true);
      return await body();
    } finally {
      lock.close(); // closing drops the lock
    }
  }
}

function checkName(name: string, what: string, pattern: RegExp): void {
  if (!pattern.test(name)) {
    throw new SwampError(ErrorCode.USAGE, `\`${name}\` is not a valid ${what}`, {
      hint: `a ${what} is letters, digits, '_', '.' and '-', starting with a letter or digit`,
    });
  }
}

function notFound(vault: string): SwampError {
  return new SwampError(ErrorCode.VAULT_NOT_FOUND, `no vault named ${vault}`, {
    hint: `create it with: swamp vault create ${vault} (see: swamp vault list)`,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
