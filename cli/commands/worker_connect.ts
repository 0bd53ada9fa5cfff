// `swamp worker connect URL --token NAME.SECRET`: a worker that dials home
// and runs what the orchestrator assigns, until SIGTERM or Ctrl-C.
import {
  defaultWorkerExecutor,
  ErrorCode,
  exitCodeFor,
  parseLabels,
  type ProtocolRange,
  supportedProtocol,
  SwampError,
} from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { version } from "../version.ts";
import { executors } from "../wiring.ts";
import { UsageError } from "../types.ts";
import { WorkerAgent } from "../worker/agent.ts";
import { defaultCacheDir, machineId } from "../worker/identity.ts";
import { StepRecords } from "../worker/step_records.ts";
import { WorkerExtensions } from "../worker/extension_steps.ts";

/** For tests only: the protocol range the worker claims, `MIN-MAX`. */
export const protocolOverrideEnv = "SWAMP_WORKER_PROTOCOL_FOR_TESTS";

const stopGraceMs = 30_000;

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function protocolRange(): ProtocolRange {
  const override = Deno.env.get(protocolOverrideEnv);
  if (!override) return supportedProtocol;
  const match = /^(\d+)-(\d+)$/.exec(override.trim());
  if (!match) throw new UsageError(`${protocolOverrideEnv} must be MIN-MAX, e.g. 1-1`);
  return { min: Number(match[1]), max: Number(match[2]) };
}

export async function run(ctx: CommandContext): Promise<number> {
  const { serverUrl, parsePin } = await import("../../plugins/rpc/connect/mod.ts");
  // One URL, or every instance of one store, comma-separated: it connects to each (0031).
  const urls = String(ctx.args[0]).split(",").map((u) => u.trim()).filter((u) => u !== "")
    .map(serverUrl);
  if (urls.length === 0) throw new UsageError("worker connect needs the orchestrator's URL");
  const credential = text(ctx.flags.token) ?? text(Deno.env.get("SWAMP_WORKER_TOKEN"));
  if (!credential) {
    throw new UsageError(
      "worker connect needs an enrollment token",
      "pass --token NAME.SECRET (or set SWAMP_WORKER_TOKEN); an admin mints one with " +
        "`swamp worker token create NAME`",
    );
  }
  const pin = text(ctx.flags.pin);
  if (pin) parsePin(pin);
  const caFile = text(ctx.flags["ca-cert"]);
  let caCert: string | undefined;
  if (caFile) {
    try {
      caCert = await Deno.readTextFile(caFile);
    } catch (error) {
      throw new UsageError(`cannot read --ca-cert ${caFile}: ${(error as Error).message}`);
    }
  }
  const concurrency = Number(text(ctx.flags.concurrency) ?? "1");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new UsageError("--concurrency must be a whole number from 1 to 1024");
  }
  const labels = parseLabels(Array.isArray(ctx.flags.label) ? ctx.flags.label : []);
  const cacheDir = text(ctx.flags["cache-dir"]) ?? defaultCacheDir();
  const id = await machineId(cacheDir);
  const dockerHost = text(ctx.flags["docker-host"]);
  // Every executor a worker can run, configured as this worker's: the offered ones run steps,
  // and any of them reaps what a previous worker process left, offered now or not.
  const runnable = new Map(
    [...(await executors({ dockerSocket: dockerHost })).values()]
      .filter((e) => e.runsOnWorkers).map((e) => [e.name, e]),
  );
  const offered = offeredExecutors(
    Array.isArray(ctx.flags.executor) ? ctx.flags.executor : [],
    [...runnable.keys()],
  );
  if (dockerHost && !offered.includes("docker")) {
    throw new UsageError(
      "--docker-host is the docker executor's engine, and this worker does not offer docker",
      "add --executor docker (with loopback too: --executor loopback,docker)",
    );
  }
  if (offered.includes("docker")) await dockerEngine(dockerHost);

  const log = (event: string, fields: Record<string, unknown>) => {
    if (ctx.out.json) {
      ctx.out.raw(`${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`);
      return;
    }
    const said = humanLine(event, fields);
    if (said) ctx.out.info(said);
  };
  // Before connecting: end the steps a previous worker process of this cache dir left running
  // (killed with -9, or the machine's OOM killer), so a re-dispatched step never runs twice.
  const records = new StepRecords(`${cacheDir}/steps`);
  for (const report of await records.reapLeftovers(runnable)) log("reaped", { ...report });
  // Extension steps' capability calls go to the instance their lease reports to.
  const server = (leaseId: string) => agent.serverOf(leaseId);
  const agent: WorkerAgent = new WorkerAgent({
    urls,
    credential,
    machineId: id,
    name: text(ctx.flags.name) ?? "",
    labels,
    concurrency,
    caCert,
    pin,
    reconnect: ctx.flags["no-reconnect"] !== true,
    protocol: protocolRange(),
    softwareVersion: version,
    executors: new Map(offered.map((name) => [name, runnable.get(name)!])),
    workDir: `${cacheDir}/work`,
    records,
    extensions: new WorkerExtensions({ server, caCert, pin, cacheDir, log }),
    log,
  });
  const signals = ["SIGTERM", "SIGINT"] as const;
  let stopping: Promise<void> | undefined;
  const onSignal = () => stopping ??= agent.stop(stopGraceMs);
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    await agent.run();
    await stopping;
    log("stopped", {});
    return 0;
  } catch (error) {
    // Under --json the refusal was its own line; the exit status says the rest.
    if (ctx.out.json && error instanceof SwampError) return exitCodeFor(error.codeName);
    throw error;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    records.close();
  }
}

/**
 * `--executor loopback --executor docker` or `--executor loopback,docker`:
 * the executors offered, each once, in the order given; loopback alone when
 * none is named.
 */
export function offeredExecutors(words: readonly string[], known: readonly string[]): string[] {
  const names = words.flatMap((word) => word.split(",")).map((n) => n.trim()).filter(Boolean);
  for (const name of names) {
    if (!known.includes(name)) {
      throw new UsageError(
        `--executor ${name}: a worker offers ${known.join(" or ")}, not \`${name}\``,
        `for example --executor ${known.join(",")}`,
      );
    }
  }
  return names.length > 0 ? [...new Set(names)] : [defaultWorkerExecutor];
}

/** A worker that offers docker checks its engine answers before it says so to anyone. */
async function dockerEngine(socket: string | undefined): Promise<void> {
  const { checkEngine } = await import("../../plugins/executors/docker/mod.ts");
  try {
    await checkEngine(socket);
  } catch (error) {
    throw new SwampError(ErrorCode.EXECUTOR_UNAVAILABLE, (error as Error).message, {
      hint: "start the engine, point --docker-host at one, or leave docker out of --executor",
    });
  }
}

/** The text line of a lifecycle event (none for some); exported for the docs' test. */
export function humanLine(event: string, f: Record<string, unknown>): string | undefined {
  switch (event) {
    case "connected":
      return `worker: ${f.resumed ? "reconnected" : "connected"} to ${f.server} as ${f.workerId}` +
        ` (protocol ${f.protocolVersion}; executors ${(f.executors as string[]).join(", ")})`;
    case "assigned":
      return `worker: running ${f.runId}/${f.stepId} (lease ${f.leaseId})`;
    case "finished":
      return `worker: ${f.runId}/${f.stepId} exited ${f.exitCode}${
        f.cancelled ? " (cancelled)" : ""
      }`;
    case "disconnected":
      return `worker: disconnected from ${f.server} (${f.error}); reconnecting in ${f.retryInMs} ms`;
    case "adopted":
      return f.held
        ? `worker: lease ${f.leaseId} now reports to ${f.server} (it took the run over)`
        : `worker: ${f.server} asked for lease ${f.leaseId}, which this worker no longer holds`;
    case "draining":
      return `worker: stopping; waiting for ${f.running} running step(s)`;
    case "drained":
      return `worker: drained by the orchestrator (${f.reason}); takes no new steps`;
    case "cancel":
      return `worker: cancelling lease ${f.leaseId}`;
    case "killed":
      return `worker: killed lease ${f.leaseId} (${f.reason})`;
    case "stopped":
      return "worker: stopped";
    case "renewed":
      return `worker: session credential renewed (session ${f.sessionId})`;
    case "silent":
      return `worker: heard nothing from the orchestrator for ${f.sinceMs} ms; reconnecting`;
    case "fenced":
      return `worker: stopped lease ${f.leaseId}: ${f.reason}`;
    case "reaped":
      return `worker: a previous worker's step ${f.runId}/${f.stepId} (lease ${f.leaseId}, ` +
        `pid ${f.pid}): ${f.outcome}`;
    default:
      return undefined;
  }
}
