// A step's work as it travels to a worker (RemoteStepWork) and back into the
// StepWork the worker's executor runs. One file for both directions, so a
// field added to one cannot be forgotten in the other.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  Assignment,
  RemoteStepWorkSchema,
} from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import type { ContainerSpec, StepWork } from "../../ports/executor.ts";

type RemoteWork = MessageInitShape<typeof RemoteStepWorkSchema>;

/**
 * The wire form of `work` for the worker `workerId`, run with its
 * `executor`. The worker's id is known only at placement: it is added to
 * the environment here, and the worker itself adds nothing to it.
 */
export function toRemoteWork(work: StepWork, executor: string, workerId: string): RemoteWork {
  const c = work.container;
  const limits = work.limits;
  return {
    command: "script" in work.command
      ? { case: "script", value: work.command.script }
      : { case: "argv", value: { args: work.command.argv } },
    env: { ...work.env, SWAMP_WORKER_ID: workerId },
    timeoutMs: BigInt(work.timeoutMs ?? 0),
    graceMs: BigInt(work.graceMs),
    outputLimitBytes: BigInt(work.outputLimitBytes),
    labels: work.labels ?? {},
    cwd: work.cwd ?? "",
    executor,
    ...(work.extension
      ? {
        extension: {
          fingerprint: work.extension.fingerprint,
          module: work.extension.module,
          memoryMb: work.extension.memoryMb,
        },
      }
      : {}),
    ...(c
      ? {
        container: {
          image: c.image ?? "",
          shell: c.shell ?? [],
          workdir: c.workdir ?? "",
          volumes: c.volumes ?? [],
          user: c.user ?? "",
          network: c.network ?? "",
          pull: c.pull ?? "",
          socket: c.socket ?? "",
        },
      }
      : {}),
    ...(limits?.memoryBytes || limits?.cpus
      ? {
        limits: {
          memoryBytes: BigInt(Math.round(limits.memoryBytes ?? 0)),
          cpus: limits.cpus ?? 0,
        },
      }
      : {}),
  };
}

/**
 * The StepWork an assignment asks for, run in `cwd` (the worker's choice
 * when the orchestrator named none). Empty fields are the executor's
 * defaults, as absent ones are in a local step's work.
 */
export function fromRemoteWork(a: Assignment, cwd: string | undefined): StepWork {
  const w = a.work!;
  const c = w.container;
  const container: ContainerSpec | undefined = c && {
    ...(c.image ? { image: c.image } : {}),
    ...(c.shell.length > 0 ? { shell: [...c.shell] } : {}),
    ...(c.workdir ? { workdir: c.workdir } : {}),
    ...(c.volumes.length > 0 ? { volumes: [...c.volumes] } : {}),
    ...(c.user ? { user: c.user } : {}),
    ...(c.network ? { network: c.network } : {}),
    ...(c.pull === "never" || c.pull === "if-missing" ? { pull: c.pull } : {}),
    ...(c.socket ? { socket: c.socket } : {}),
  };
  const memoryBytes = Number(w.limits?.memoryBytes ?? 0n);
  const cpus = w.limits?.cpus ?? 0;
  return {
    runId: a.runId,
    stepId: a.stepId,
    command: w.command.case === "argv" ? { argv: w.command.value.args } : {
      script: w.command.value ?? "",
    },
    env: { ...w.env },
    ...(cwd !== undefined ? { cwd } : {}),
    timeoutMs: w.timeoutMs > 0n ? Number(w.timeoutMs) : undefined,
    graceMs: Number(w.graceMs) || 5000,
    outputLimitBytes: Number(w.outputLimitBytes) || 1024 * 1024,
    labels: { ...w.labels },
    ...(container ? { container } : {}),
    ...(w.extension
      ? {
        extension: {
          fingerprint: w.extension.fingerprint,
          module: w.extension.module,
          memoryMb: w.extension.memoryMb,
        },
      }
      : {}),
    ...(memoryBytes > 0 || cpus > 0
      ? { limits: { ...(memoryBytes > 0 ? { memoryBytes } : {}), ...(cpus > 0 ? { cpus } : {}) } }
      : {}),
  };
}
