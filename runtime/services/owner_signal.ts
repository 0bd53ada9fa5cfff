import { isSameProcessAlive } from "../host/mod.ts";

/** Tells a live owner on this host to look at its log now (it also looks on its own, less often). */
export async function pokeOwner(
  owner: { pid: number; processStart: string } | undefined,
): Promise<void> {
  if (!owner || owner.pid === 0) return;
  if (await isSameProcessAlive(owner.pid, owner.processStart)) {
    try {
      Deno.kill(owner.pid, "SIGUSR1");
    } catch {
      // It ended in between; the log already says what happened.
    }
  }
}
