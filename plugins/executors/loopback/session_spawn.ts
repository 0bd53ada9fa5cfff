// Starts a step's process as the leader of a new session (and so of a new
// process group whose id is its pid): with posix_spawn and POSIX_SPAWN_SETSID
// where the C library can be reached, else through setsid(1). Why two ways:
// docs/design/0009-posix-spawn-steps.md.
import { libc } from "./libc.ts";
import { readProc } from "./process_group.ts";
import { posixSpawn, type SessionChild, type SpawnSpec } from "./posix_spawn.ts";

export type { SessionChild, SpawnSpec };

/** `auto`: posix_spawn when available, else setsid; `setsid`: always setsid(1). */
export type SpawnPreference = "auto" | "setsid";
export type SpawnMethod = "posix_spawn" | "setsid";

/** The method `preference` comes to on this host (libc.ts's `unavailableReason` says why not posix_spawn). */
export function spawnMethod(preference: SpawnPreference): SpawnMethod {
  return preference === "auto" && libc() ? "posix_spawn" : "setsid";
}

/** Rejects when the program cannot be started; nothing is left running then. */
export function spawnInSession(spec: SpawnSpec, method: SpawnMethod): Promise<SessionChild> {
  const c = method === "posix_spawn" ? libc() : null;
  if (c) return posixSpawn(c, spec);
  try {
    return Promise.resolve(setsidSpawn(spec));
  } catch (error) {
    return Promise.reject(error);
  }
}

function setsidSpawn(spec: SpawnSpec): SessionChild {
  // setsid(1) execs in place: a child Deno spawns never leads a group
  // already, so setsid needs no fork and the step keeps setsid's pid.
  const child = new Deno.Command("setsid", {
    args: [spec.program, ...spec.args],
    cwd: spec.cwd,
    env: spec.env,
    clearEnv: true,
    stdin: spec.held ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read in the tick of spawn, synchronously: Deno cannot have reaped the
  // child yet, however quickly it exits.
  const { pid, stdout, stderr, status } = child;
  const processStart = readProc(pid)?.start ?? "";
  if (!spec.held) return { pid, processStart, stdout, stderr, status };
  const gate = child.stdin.getWriter();
  let open = true;
  const release = (go: boolean) => {
    if (!open) return;
    open = false;
    // A child that already exited makes the write fail: nothing is left to hold then.
    (go ? gate.write(new Uint8Array([10])) : Promise.resolve())
      .then(() => gate.close())
      .catch(() => gate.abort().catch(() => {}));
  };
  return { pid, processStart, stdout, stderr, status, release };
}
