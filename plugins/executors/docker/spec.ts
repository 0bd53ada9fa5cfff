// From a step's work to the engine's create-container request, with the
// checks that must fail before anything is created (a volume or working
// directory that does not exist on the host).
import type { ContainerCreateOptions } from "dockerode";
import type { StepWork } from "../../../runtime/mod.ts";

/** Every container swamp starts carries this label, so none can be missed by a cleanup. */
export const OWNED_LABEL = "dev.swamp.owned";
export const RUN_LABEL = "dev.swamp.run-id";
export const STEP_LABEL = "dev.swamp.step-id";

export class BadContainerSpec extends Error {
  constructor(message: string, readonly code = "invalid_workflow") {
    super(message);
  }
}

export async function createOptions(
  work: StepWork,
  defaultImage: string | undefined,
): Promise<ContainerCreateOptions> {
  const spec = work.container ?? {};
  const image = spec.image ?? defaultImage;
  if (!image) throw new BadContainerSpec("a docker step needs an `image`");
  const cmd = "script" in work.command
    ? [...(spec.shell ?? ["/bin/sh", "-c"]), work.command.script]
    : work.command.argv;
  if (cmd.length === 0 || cmd[0] === "") throw new BadContainerSpec("empty argv: nothing to run");
  const binds: string[] = [];
  for (const volume of spec.volumes ?? []) binds.push(await bind(volume));
  if (work.cwd !== undefined) {
    if (!(await isDirectory(work.cwd))) {
      throw new BadContainerSpec(
        `cannot start: working directory ${work.cwd} does not exist`,
        "io",
      );
    }
    // The step sees its working directory at the same path, as a local step would.
    if (!spec.workdir) binds.push(`${work.cwd}:${work.cwd}:rw`);
  }
  const memory = work.limits?.memoryBytes;
  return {
    Image: image,
    Cmd: cmd,
    Env: Object.entries(work.env).map(([key, value]) => `${key}=${value}`),
    WorkingDir: spec.workdir ?? work.cwd,
    User: spec.user,
    Labels: {
      ...work.labels,
      [OWNED_LABEL]: "true",
      [RUN_LABEL]: work.runId,
      [STEP_LABEL]: work.stepId,
    },
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      NetworkMode: spec.network ?? "none",
      // An init as PID 1 passes signals on to the step and reaps what it forks.
      Init: true,
      Binds: binds,
      Memory: memory,
      // No swap beyond the limit: the limit is the limit.
      MemorySwap: memory,
      // At its limit the step is held rather than killed, so that the engine's report of it
      // cannot be lost (./oom.ts); the executor then ends it. Engines on cgroup v2 drop this.
      OomKillDisable: memory ? true : undefined,
      NanoCpus: work.limits?.cpus ? Math.round(work.limits.cpus * 1e9) : undefined,
    },
  };
}

/** `host:container[:ro|rw]` with the host path checked; read-only unless `rw` is asked for. */
async function bind(volume: string): Promise<string> {
  const [host, inside, mode, ...rest] = volume.split(":");
  if (
    !host || !inside || rest.length > 0 || (mode !== undefined && mode !== "ro" && mode !== "rw")
  ) {
    throw new BadContainerSpec(`volume \`${volume}\` is not host:container[:ro|rw]`);
  }
  if (!host.startsWith("/") || !inside.startsWith("/")) {
    throw new BadContainerSpec(`volume \`${volume}\`: both paths must be absolute`);
  }
  try {
    await Deno.stat(host);
  } catch {
    throw new BadContainerSpec(`volume \`${volume}\`: host path ${host} does not exist`, "io");
  }
  return `${host}:${inside}:${mode ?? "ro"}`;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
