// The host's step slots as files locked with flock(2): `slot-<n>` in one
// directory per user, n < limit. A slot is held while its file is locked by
// an open file in the holding process. The kernel drops the lock when that
// file is closed or the process dies (kill -9 included), so a slot is never
// left held by a process that is gone and nothing has to be reaped. Files are
// opened close-on-exec, so a step's own processes never inherit a slot.
import type { SlotLease, StepSlots } from "../../../runtime/mod.ts";

export interface FlockSlotOptions {
  /** Directory of the slot files; created (mode 0700) when missing. */
  dir: string;
  /** Slots this process may take: `slot-0` … `slot-<limit-1>`. */
  limit: number;
  /** Refuse a directory another account owns (for the default, private directory). */
  mustOwn?: boolean;
}

/**
 * Per-user, so that one account cannot hold another's slots: under
 * `$XDG_RUNTIME_DIR` when the session has one, else under the temp directory.
 */
export function defaultSlotDir(env: { get(name: string): string | undefined }): string {
  const runtimeDir = env.get("XDG_RUNTIME_DIR");
  if (runtimeDir) return `${runtimeDir}/swamp/step-slots`;
  const tmp = env.get("TMPDIR") || "/tmp";
  return `${tmp}/swamp-${Deno.uid() ?? "user"}/step-slots`;
}

export function openFlockSlots(options: FlockSlotOptions): StepSlots {
  const { dir, limit } = options;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`a host slot limit is a whole number of at least 1, not ${limit}`);
  }
  let ready = false;
  // Slots are tried from a different place each time, so processes that
  // poll together do not all contend for slot 0 first.
  let next = 0;
  return {
    limit,
    where: dir,
    tryTake(): SlotLease | undefined {
      if (!ready) {
        try {
          prepare(dir, options.mustOwn ?? false);
        } catch (error) {
          throw new Error(
            `cannot keep host step slots in ${dir}: ${(error as Error).message}; ` +
              `set SWAMP_HOST_SLOTS_DIR to a directory of your own, or SWAMP_HOST_MAX_STEPS=0`,
          );
        }
        ready = true;
      }
      for (let i = 0; i < limit; i++) {
        const slot = (next + i) % limit;
        const file = Deno.openSync(`${dir}/slot-${slot}`, {
          read: true,
          write: true,
          create: true,
        });
        let locked = false;
        try {
          locked = file.tryLockSync(true);
        } finally {
          if (!locked) file.close();
        }
        if (locked) {
          next = (slot + 1) % limit;
          return lease(slot, file);
        }
      }
      return undefined;
    },
  };
}

function lease(slot: number, file: Deno.FsFile): SlotLease {
  let held = true;
  return {
    slot,
    release() {
      if (!held) return;
      held = false;
      file.close(); // closing drops the lock
    },
  };
}

/**
 * Creates the directory. A private one (the default, under a shared temp
 * directory) must belong to this account: another account could otherwise
 * create it first and hold every slot.
 */
function prepare(dir: string, mustOwn: boolean): void {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!mustOwn) return;
  const owner = Deno.statSync(dir).uid;
  const uid = Deno.uid();
  if (uid !== null && owner !== null && owner !== uid) {
    throw new Error(`it belongs to another account (uid ${owner}); remove it`);
  }
}
