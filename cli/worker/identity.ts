// A worker's identity on its machine: the cache dir (a per-user state
// directory by default, so it survives restarts and reboots) and the machine
// id kept in it, generated once. An enrollment token binds to this id: a new
// cache dir is a new machine to the orchestrator.
import { UsageError } from "../types.ts";

/** $XDG_STATE_HOME/swamp/worker, else ~/.local/state/swamp/worker. */
export function defaultCacheDir(): string {
  const state = Deno.env.get("XDG_STATE_HOME");
  if (state) return `${state}/swamp/worker`;
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new UsageError(
      "no state directory for the worker: neither XDG_STATE_HOME nor HOME is set",
      "pass --cache-dir DIR (a directory that survives restarts)",
    );
  }
  return `${home}/.local/state/swamp/worker`;
}

const idPattern = /^[0-9a-f-]{36}$/;

/** The machine id in `dir`, created (atomically, mode 0600) on first use. */
export async function machineId(dir: string): Promise<string> {
  const file = `${dir}/machine-id`;
  const existing = await readId(file);
  if (existing) return existing;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, `${crypto.randomUUID()}\n`, { mode: 0o600 });
  try {
    // A link fails when another process created the file first: then its id wins.
    await Deno.link(temp, file);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
  const id = await readId(file);
  if (!id) {
    throw new UsageError(`${file} does not hold a machine id`, "remove it to make a new one");
  }
  return id;
}

async function readId(file: string): Promise<string | undefined> {
  try {
    const text = (await Deno.readTextFile(file)).trim();
    if (!idPattern.test(text)) {
      throw new UsageError(
        `${file} does not hold a machine id`,
        "restore it from a backup, or remove it (the worker then needs a new token)",
      );
    }
    return text;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
