// One step as one container: create it (labelled), attach before start so no
// output is lost, stream stdout and stderr as lines, stop it on cancel or
// timeout in stages, and remove it before reporting the step exited, so no
// container outlives its step on any path.
import type Dockerode from "dockerode";
import type { CancelStageName, StepEvent, StepWork } from "../../../runtime/mod.ts";
import { couldNotRun, EventQueue, LineSplitter, OutputCapture } from "../../../runtime/mod.ts";
import { Demuxer } from "./demux.ts";
import { client, type Docker, reachable, socketPath, statusOf } from "./engine.ts";
import { watchOom } from "./oom.ts";
import { createOptions } from "./spec.ts";

export interface DockerDispatchOptions {
  defaultImage?: string;
  socket?: string;
  maxLineChars: number;
}

type Exited = Extract<StepEvent, { type: "exited" }>;
type Container = Dockerode.Container;

const STAGES: [string, CancelStageName][] = [
  ["SIGINT", "interrupted"],
  ["SIGTERM", "terminated"],
  ["SIGKILL", "killed"],
];

export async function* dispatchContainer(
  work: StepWork,
  signal: AbortSignal,
  options: DockerDispatchOptions,
): AsyncGenerator<StepEvent> {
  if (signal.aborted) {
    yield { ...couldNotRun("", 130), error: undefined, cancelled: true };
    return;
  }
  let docker: Docker;
  let container: Container;
  try {
    const path = socketPath(work.container?.socket ?? options.socket);
    docker = await client(path);
    await reachable(docker, path);
    const create = await createOptions(work, options.defaultImage);
    await ensureImage(docker, create.Image!, work.container?.pull ?? "never");
    container = await docker.createContainer(create);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    yield couldNotRun((error as Error).message, 125, typeof code === "string" ? code : undefined);
    return;
  }
  const queue = new EventQueue<StepEvent>();
  let release = (_go: boolean) => {};
  const released = new Promise<boolean>((resolve) => release = resolve);
  const finished = run(docker, container, work, signal, queue, options.maxLineChars, released);
  try {
    for await (const event of queue) {
      yield event;
      // Asked for the next event: the engine has recorded the container (decision 0039).
      if (event.type === "started") release(true);
    }
  } finally {
    // The consumer stopped early: stop and remove the container all the same.
    release(false);
    await finished.stop("cancel");
    await finished.done;
  }
}

/** The image must be there; with `if-missing` it is pulled, with `never` its absence is an error. */
async function ensureImage(docker: Docker, image: string, pull: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  if (pull !== "if-missing") {
    throw Object.assign(
      new Error(
        `image ${image} is not present and \`pull\` is \`never\`: build or load it first ` +
          "(docker build, docker load or docker import), or set `pull: if-missing`",
      ),
      { code: "image_missing" },
    );
  }
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null) => error ? reject(error) : resolve())
  );
}

interface Running {
  stop(why: "cancel" | "timeout"): Promise<void>;
  done: Promise<void>;
}

/** Starts the container and feeds `queue` until the container is gone; ends with `exited`. */
function run(
  docker: Docker,
  container: Container,
  work: StepWork,
  signal: AbortSignal,
  queue: EventQueue<StepEvent>,
  maxLineChars: number,
  released: Promise<boolean>,
): Running {
  let cause: "cancel" | "timeout" | undefined;
  let stopping: Promise<void> | undefined;
  let exited: Promise<number> | undefined;
  let wanted: "cancel" | "timeout" | undefined;
  const stop = (why: "cancel" | "timeout") => {
    // Asked before the container runs: stopped as soon as it does.
    if (!exited) wanted ??= why;
    if (!cause && exited) {
      cause = why;
      stopping = stopInStages(
        container,
        work.graceMs,
        exited,
        (stage, detail) => queue.push({ type: "cancelStage", stage, detail }),
      );
    }
    return stopping ?? Promise.resolve();
  };
  const done = (async () => {
    const capture = new OutputCapture(work.outputLimitBytes);
    let lastStderr: string | undefined;
    let output: Promise<void>;
    // Whether the engine holds the step at its memory limit (see ./oom.ts); known after start.
    const limit = { held: false };
    const endForMemory = () =>
      void container.kill({ signal: "SIGKILL" }).catch(() => {/* it ended meanwhile */});
    let oom: Awaited<ReturnType<typeof watchOom>> | undefined;
    /** Ends a step whose container never started: removed, and `exited` says why. */
    const endUnstarted = async (event: Exited) => {
      oom?.close();
      await remove(container);
      queue.push(event);
      queue.close();
    };
    const startFailed = (error: unknown) =>
      endUnstarted(couldNotRun(`cannot start the container: ${(error as Error).message}`, 127));
    try {
      if (work.limits?.memoryBytes) {
        oom = await watchOom(docker, container.id, () => {
          if (limit.held) endForMemory();
        });
      }
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      // Nothing is printed before the container starts, which is after `started` is out.
      output = pump(stream, capture, (event) => {
        if (event.type === "output" && event.stream === "stderr") lastStderr = event.line;
        queue.push(event);
      }, maxLineChars);
    } catch (error) {
      return await startFailed(error);
    }
    // Started only once the engine has recorded the container: an engine that dies first leaves
    // a container that never ran, which whoever takes the run over removes (decision 0039). Its
    // process has no pid until then, so none is recorded: the container is what is ended.
    queue.push({
      type: "started",
      process: { executor: "docker", pid: 0, pgid: 0, processStart: "", containerId: container.id },
    });
    // Given up or cancelled while it was being recorded: removed, never started.
    if (!await released || wanted || signal.aborted) {
      return await endUnstarted({ ...couldNotRun("", 130), error: undefined, cancelled: true });
    }
    try {
      await container.start();
    } catch (error) {
      return await startFailed(error);
    }
    const info = await container.inspect();
    limit.held = info.HostConfig?.OomKillDisable === true;
    if (limit.held && oom?.seen) endForMemory();
    exited = container.wait().then((r: { StatusCode: number }) => r.StatusCode);
    if (wanted) void stop(wanted);
    const onAbort = () => void stop("cancel");
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    const timer = work.timeoutMs === undefined
      ? undefined
      : setTimeout(() => void stop("timeout"), Math.max(0, work.timeoutMs));
    const exitCode = await exited;
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    await stopping;
    await output;
    const seen = () => oom?.seen === true;
    // A held step is only ever ended for memory by this executor, after the event: nothing to wait for.
    const state = await finalState(container, exitCode === 137 && !cause && !limit.held, seen);
    oom?.close();
    const gone = await remove(container);
    if (cause) queue.push({ type: "cancelStage", stage: "confirmed", detail: gone });
    // The kernel may kill a child for memory while the step goes on and succeeds: only a
    // step that failed failed for want of memory.
    const outOfMemory = (state?.OOMKilled === true || seen()) && exitCode !== 0;
    const notStarted = exitCode === 127 ? execFailure(lastStderr) : undefined;
    const sig = exitCode > 128 && exitCode < 160 ? signalNames[exitCode - 128] : undefined;
    queue.push({
      type: "exited",
      exitCode,
      ...(sig ? { signal: sig } : {}),
      cancelled: cause === "cancel",
      timedOut: cause === "timeout",
      stdout: capture.text(),
      stdoutTruncated: capture.truncated,
      ...(notStarted ? { error: notStarted } : {}),
      ...(outOfMemory
        ? {
          outOfMemory: true,
          errorCode: "out_of_memory",
          error: `out of memory: the kernel killed the step for exceeding its memory limit (${
            work.limits?.memoryBytes ?? "?"
          } bytes)`,
        }
        : {}),
    });
    queue.close();
  })();
  return { stop, done };
}

/**
 * The container's state after it exited. Where the engine cannot hold a
 * step at its limit (./oom.ts), the kernel's kill and the engine's event
 * race the exit, so a step killed by SIGKILL is looked at again, for up to
 * three seconds, before it is taken as not out of memory.
 */
async function finalState(container: Container, killed: boolean, seen: () => boolean) {
  const inspect = () => container.inspect().then((i) => i.State).catch(() => undefined);
  let state = await inspect();
  for (let i = 0; killed && state && !state.OOMKilled && !seen() && i < oomSettleTries; i++) {
    await new Promise((resolve) => setTimeout(resolve, oomSettleMs));
    state = await inspect();
  }
  return state;
}

const oomSettleTries = 30;
const oomSettleMs = 100;

/** Interrupt, terminate, kill: each stage only if the container is still running after the grace period. */
async function stopInStages(
  container: Container,
  graceMs: number,
  exited: Promise<number>,
  report: (stage: CancelStageName, detail: string) => void,
): Promise<void> {
  for (const [signal, stage] of STAGES) {
    try {
      await container.kill({ signal });
    } catch (error) {
      if (statusOf(error) === 409 || statusOf(error) === 404) return; // it ended meanwhile
      throw error;
    }
    report(stage, `sent ${signal} to container ${container.id.slice(0, 12)}`);
    const ended = await Promise.race([
      exited.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs)),
    ]);
    if (ended) return;
  }
}

/** Reads the attach stream to its end, as lines per stream and captured stdout. */
function pump(
  stream: NodeJS.ReadableStream,
  capture: OutputCapture,
  emit: (event: StepEvent) => void,
  maxLineChars: number,
): Promise<void> {
  const demux = new Demuxer();
  const splitters = {
    stdout: new LineSplitter(maxLineChars),
    stderr: new LineSplitter(maxLineChars),
  };
  return new Promise<void>((resolve) => {
    stream.on("data", (chunk: Uint8Array) => {
      for (const frame of demux.push(chunk)) {
        if (frame.stream === "stdout") capture.add(frame.bytes);
        for (const line of splitters[frame.stream].push(frame.bytes)) {
          emit({ type: "output", stream: frame.stream, line });
        }
      }
    });
    const end = () => {
      for (const name of ["stdout", "stderr"] as const) {
        for (const line of splitters[name].end()) {
          emit({ type: "output", stream: name, line });
        }
      }
      resolve();
    };
    stream.on("end", end);
    stream.on("close", end);
    stream.on("error", end);
  });
}

/**
 * The init in the container (tini) reports a program it cannot exec as a
 * FATAL line and status 127: that is a step that could not start.
 */
function execFailure(line: string | undefined): string | undefined {
  const match = line && /^\[FATAL tini \(\d+\)\] exec (.*) failed: (.*)$/.exec(line);
  return match ? `cannot start ${JSON.stringify(match[1])}: ${match[2]}` : undefined;
}

/** Removes the container and confirms it is gone; says what happened. */
export async function remove(container: Container): Promise<string> {
  try {
    await container.remove({ force: true });
  } catch (error) {
    if (statusOf(error) !== 404 && statusOf(error) !== 409) {
      return `could not remove container ${container.id.slice(0, 12)}: ${(error as Error).message}`;
    }
  }
  try {
    await container.inspect();
    return `container ${container.id.slice(0, 12)} is still there`;
  } catch {
    return `container ${container.id.slice(0, 12)} removed`;
  }
}

const signalNames: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  6: "SIGABRT",
  8: "SIGFPE",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
};
