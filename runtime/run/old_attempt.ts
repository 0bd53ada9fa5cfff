import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run, Step, StepProcess } from "../../proto/gen/swamp/v1/run_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { bootId, hostName } from "../host/mod.ts";
import type { RecordedProcess } from "../ports/executor.ts";
import { hasOwner } from "./claim.ts";
import { loadFoldedRun } from "./fold.ts";
import { type ReconcileDeps, reconcileRun } from "./reconcile.ts";
import { isSettledRun, RunStatus, StepStatus } from "./status.ts";
import { defaultExecutorName } from "../executors/mod.ts";

// Before an abandoned run gets a new attempt, nothing of its last one may
// still run: a step started again while its first process goes on would do
// its work twice at once. What its steps recorded is ended as a reconcile
// ends it, then confirmed gone by the executor that started it; what cannot
// be confirmed stops the resume.

/** Something of the last attempt that is not confirmed gone, and what would let it be. */
interface Leftover {
  what: string;
  hint: string;
}

interface Findings {
  actions: string[];
  leftovers: Leftover[];
}

/** Nested runs deeper than this are not looked into (a run cannot nest itself that deep). */
const maxDepth = 32;

/**
 * Ends what the steps of the abandoned `run`, and of the nested runs they
 * started, recorded, and confirms it gone; throws `run_state` naming each
 * step it cannot confirm. Either way, what it did goes into the run's log.
 */
export async function confirmLastAttemptGone(deps: ReconcileDeps, run: Run): Promise<void> {
  const found: Findings = { actions: [], leftovers: [] };
  await visit(deps, run, found, 0);
  const lines = [...found.actions, ...found.leftovers.map((l) => `not confirmed gone: ${l.what}`)];
  if (lines.length > 0) {
    await deps.store.appendLogs(run.id, [create(LogLineSchema, {
      time: timestampFromDate(deps.clock.now()),
      stream: "system",
      text: `resume: ${lines.join("; ")}`,
    })]);
  }
  if (found.leftovers.length === 0) return;
  throw new SwampError(
    ErrorCode.RUN_STATE,
    `run ${run.id} is not resumed: what its last attempt started is not confirmed gone: ${
      found.leftovers.map((l) => l.what).join("; ")
    }`,
    { hint: [...new Set(found.leftovers.map((l) => l.hint))].join("; ") },
  );
}

async function visit(deps: ReconcileDeps, run: Run, found: Findings, depth: number) {
  const nested = depth > 0 ? ` of nested run ${run.id}` : "";
  for (const step of run.steps) {
    const process = step.process;
    if (step.status !== StepStatus.ABANDONED || !process || !recordsSomething(process)) continue;
    await endStep(deps, run, `step ${step.id}${nested}`, process, found);
  }
  if (depth >= maxDepth) return;
  for (const step of run.steps) {
    if (step.status !== StepStatus.ABANDONED || !step.childRunId) continue;
    const child = await settledChild(deps, step);
    if (child === undefined) continue;
    if (typeof child === "string") {
      found.leftovers.push({
        what: child,
        hint: "wait for it to end, or cancel it, then resume again",
      });
    } else if (child.status === RunStatus.ABANDONED) {
      await visit(deps, child, found, depth + 1);
    }
  }
}

function recordsSomething(process: StepProcess): boolean {
  return process.pid !== 0 || process.containerId !== "" || process.leaseId !== "";
}

async function endStep(
  deps: ReconcileDeps,
  run: Run,
  where: string,
  process: StepProcess,
  found: Findings,
): Promise<void> {
  const name = process.executor || defaultExecutorName(deps.executors) || "";
  const owner = run.owner;
  // A worker's step is the orchestrator's to end; any other ran where the owner did.
  if (!process.workerId && owner?.host && owner.host !== hostName()) {
    found.leftovers.push({
      what: `${where} ran on host ${owner.host} (${describe(process)}), where it cannot be ` +
        "seen from here",
      hint: `resume it on ${owner.host}, where swamp can end and confirm what it left`,
    });
    return;
  }
  if (!process.workerId && !process.containerId && owner?.bootId) {
    if (owner.bootId !== await bootId()) {
      found.actions.push(`${where}: gone: this host has restarted since it ran`);
      return;
    }
  }
  const executor = deps.executors.get(name);
  if (!executor?.confirmGone) {
    found.leftovers.push({
      what: `${where} (${describe(process)}): ${
        executor ? `executor ${name} cannot confirm` : `no executor named ${name} here to confirm`
      } that it is gone`,
      hint: process.workerId
        ? "a worker's step cannot be confirmed gone yet; check the worker, then start a new run"
        : `end it yourself, then start a new run`,
    });
    return;
  }
  const recorded: RecordedProcess = {
    executor: name,
    pid: process.pid,
    pgid: process.pgid,
    processStart: process.processStart,
    containerId: process.containerId || undefined,
    workerId: process.workerId || undefined,
    leaseId: process.leaseId || undefined,
  };
  // The reap is repeated: the one at abandonment may have failed, or been left to a later read.
  const reaped = await executor.reap(recorded).catch((error) => [
    `could not end what it left: ${(error as Error).message}`,
  ]);
  found.actions.push(...reaped.map((line) => `${where}: ${line}`));
  const check = await executor.confirmGone(recorded).catch((error) => ({
    gone: false,
    detail: `could not look: ${(error as Error).message}`,
  }));
  if (check.gone) {
    found.actions.push(`${where}: confirmed gone: ${check.detail}`);
  } else {
    found.leftovers.push({
      what: `${where}: ${check.detail}`,
      hint: "end it yourself, then resume again; until then nothing of the run is started",
    });
  }
}

/**
 * The nested run a step started, reconciled if its owner is gone; a text
 * saying why when a live owner still runs it; undefined when it is not there.
 */
async function settledChild(deps: ReconcileDeps, step: Step): Promise<Run | string | undefined> {
  const load = () => loadFoldedRun(deps.store, step.childRunId);
  let child = await load();
  if (!child || isSettledRun(child.status)) return child;
  if (await reconcileRun(deps, child.id)) child = await load();
  if (!child || isSettledRun(child.status) || !hasOwner(child.owner)) return child;
  return `nested run ${child.id} of step ${step.id} is still owned by a live process ` +
    `(pid ${child.owner.pid} on ${child.owner.host})`;
}

function describe(process: StepProcess): string {
  if (process.leaseId) return `lease ${process.leaseId} on worker ${process.workerId}`;
  if (process.containerId) return `container ${process.containerId.slice(0, 12)}`;
  return `pid ${process.pid}, group ${process.pgid}`;
}
