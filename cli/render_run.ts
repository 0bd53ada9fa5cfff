import { duration, when } from "./time_text.ts";
import type { Run, RunSummary, Step, Waiting } from "../proto/gen/swamp/v1/run_pb.ts";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  heartbeatTtlMs,
  isSettledRun,
  jobStatusText,
  runStatusText,
  stepStatusText,
} from "../runtime/mod.ts";
import type { Output } from "./output.ts";
import { gateLines } from "./render_gate.ts";

// How runs look to people. The --json forms are the protobuf JSON of the
// same messages (docs/design/0001).

export { duration, when };

export function waitingText(waiting?: Waiting): string {
  switch (waiting?.on.case) {
    case "lock":
      return `lock ${waiting.on.value.replace(/^lock:/, "")}${
        waiting.holderRunId ? ` (held by run ${waiting.holderRunId.slice(0, 8)})` : ""
      }`;
    case "approval":
      return `approval ${waiting.on.value}`;
    case "worker":
      return `a worker: ${waiting.on.value}`;
    case "hostSlot":
      return `a host step slot (all ${waiting.on.value.limit} taken, SWAMP_HOST_MAX_STEPS)`;
    case "retry":
      return `its retry backoff, next attempt at ${when(waiting.on.value)}`;
    default:
      return "";
  }
}

export function paintStatus(out: Output, text: string): string {
  if (text === "succeeded") return out.green(text);
  if (text === "failed" || text === "abandoned") return out.red(text);
  if (text === "cancelled" || text === "cancelling" || text === "skipped") return out.yellow(text);
  return out.bold(text);
}

/** The whole record, as `workflow status` shows it. */
export function printRun(out: Output, run: Run, definitionChanged: boolean): void {
  const status = runStatusText(run.status);
  out.line(
    `run ${out.bold(run.id)}  ${paintStatus(out, status)}${run.reason ? `: ${run.reason}` : ""}`,
  );
  out.line(
    `workflow  ${run.workflowName} (${run.workflowId})${
      definitionChanged ? out.yellow("  [file changed since the run started]") : ""
    }`,
  );
  out.line(
    `started   ${when(run.startTime ?? run.createTime)} by ${
      run.actor || "?"
    }, attempt ${run.attempt}`,
  );
  if (run.endTime) {
    out.line(
      `ended     ${when(run.endTime)} after ${
        duration(run.startTime ?? run.createTime, run.endTime)
      }`,
    );
  }
  if (run.owner?.pid && !isSettledRun(run.status)) {
    const beat = run.owner.heartbeatTime
      ? `, heartbeat ${duration(run.owner.heartbeatTime)} ago`
      : "";
    out.line(`owner     pid ${run.owner.pid} on ${run.owner.host}${beat}`);
    const silentMs = run.owner.heartbeatTime
      ? Date.now() - timestampDate(run.owner.heartbeatTime).getTime()
      : 0;
    if (silentMs > heartbeatTtlMs) {
      // Alive (or it would have been reconciled) but not answering: say so, and what ends it.
      out.line(
        `          not answering: no heartbeat for ${Math.round(silentMs / 1000)} s (more than ` +
          `${heartbeatTtlMs / 1000} s); \`swamp workflow cancel ${run.id}\` ends it`,
      );
    }
  }
  if (run.waiting?.on.case) out.line(`waiting   ${waitingText(run.waiting)}`);
  if (run.parentRunId) out.line(`parent    run ${run.parentRunId} step ${run.parentStepId}`);
  if (run.locks.length > 0) out.line(`locks     ${run.locks.join(", ")}`);
  if (run.lastWarning) {
    const more = run.warningCount > 1 ? ` (${run.warningCount} warnings, the latest)` : "";
    out.line(`warning   ${out.yellow(run.lastWarning.message)}${out.dim(more)}`);
  }
  for (const job of run.jobs) {
    out.line(
      `job ${out.bold(job.name)}  ${paintStatus(out, jobStatusText(job.status))}${
        job.reason ? out.dim(`  ${job.reason}`) : ""
      }`,
    );
    const steps = run.steps.filter((s) => s.job === job.name);
    for (const step of steps.filter((s) => !s.templateId)) {
      printStep(out, step);
      for (const item of steps.filter((s) => s.templateId === step.id)) printStep(out, item);
    }
  }
  if (run.cancelTimeline.length > 0) {
    out.line("cancel timeline:");
    for (const stage of run.cancelTimeline) {
      const step = stage.stepId ? ` ${stage.stepId}` : "";
      out.line(
        `  ${when(stage.time)}  ${stage.stage}${step}${stage.detail ? `  ${stage.detail}` : ""}`,
      );
    }
  }
}

function printStep(out: Output, step: Step): void {
  out.line(stepLine(out, step));
  if (out.verbose) {
    const indent = step.itemIndex >= 0 ? "        " : "      ";
    for (const line of stepDetails(step)) out.line(out.dim(`${indent}${line}`));
  }
  if (step.approval) {
    for (const line of gateLines(out, step.approval, step.itemIndex >= 0 ? "        " : "      ")) {
      out.line(line);
    }
  }
  if (step.childRunId) out.line(out.dim(`      nested run ${step.childRunId}`));
}

/** What -v adds under a step: when it ran, the process that ran it, and where it was placed. */
export function stepDetails(step: Step): string[] {
  const lines: string[] = [];
  if (step.startTime) {
    const end = step.endTime ? `, ended ${when(step.endTime)}` : "";
    const exit = step.endTime && step.process ? `, exit ${step.exitCode}` : "";
    lines.push(`started ${when(step.startTime)}${end}${exit}, attempt ${step.attempt}`);
  }
  const p = step.process;
  if (p) {
    const where = [
      p.executor && `executor ${p.executor}`,
      p.containerId && `container ${p.containerId}`,
      p.workerId && `worker ${p.workerId}`,
      p.leaseId && `lease ${p.leaseId}`,
    ].filter(Boolean);
    // A container is recorded before it starts, without a pid (decision 0039).
    const ids = p.pid ? [`pid ${p.pid} pgid ${p.pgid}`] : [];
    lines.push(`process ${[...ids, ...where].join(", ")}`);
  }
  const placed = step.placement;
  if (placed && (placed.target || placed.workerId || Object.keys(placed.labels).length > 0)) {
    const labels = Object.entries(placed.labels).map(([key, value]) => `${key}=${value}`);
    const parts = [
      placed.target && `target ${placed.target}`,
      labels.length > 0 && `labels ${labels.join(",")}`,
      placed.workerId && `on worker ${placed.workerName || "?"} (${placed.workerId})`,
      placed.leaseId && `lease ${placed.leaseId} epoch ${placed.leaseEpoch}`,
    ].filter(Boolean);
    lines.push(`placement ${parts.join(", ")}`);
  }
  return lines;
}

export function stepLine(out: Output, step: Step): string {
  const indent = step.itemIndex >= 0 ? "    " : "  ";
  const status = stepStatusText(step.status);
  const time = step.startTime ? out.dim(` ${duration(step.startTime, step.endTime)}`) : "";
  // A queued step's reason already says what it waits for.
  const wait = step.waiting?.on.case && !(step.waiting.on.case === "worker" && step.reason)
    ? out.dim(`  waiting on ${waitingText(step.waiting)}`)
    : "";
  const reason = step.reason ? out.dim(`  ${step.reason}`) : "";
  // A step with `retry:` says which attempt it is on (or ended on), of how many; one that ran
  // again in a resumed run says in which attempt (the others ran in the first).
  const attempt = step.retry
    ? out.dim(`  attempt ${step.retry.attempt} of ${step.retry.attempts}`)
    : step.attempt > 1
    ? out.dim(`  attempt ${step.attempt}`)
    : "";
  return `${indent}${step.id}  ${paintStatus(out, status)}${time}${attempt}${wait}${reason}`;
}

export function summaryLine(out: Output, run: RunSummary): string {
  const status = runStatusText(run.status).padEnd(10);
  return `${run.id.slice(0, 8)}  ${run.workflowName.padEnd(20)} ${paintStatus(out, status)}  ${
    (run.actor || "?").padEnd(10)
  } ${when(run.createTime)}  ${waitingText(run.waiting)}`;
}

/** `workflow list -v`: every run's whole id, its attempt, and when it ended or how long it has run. */
export const verboseHeader = [
  "RUN",
  "WORKFLOW",
  "STATUS",
  "ATTEMPT",
  "ACTOR",
  "CREATED",
  "ENDED",
  "TOOK",
  "WAITING ON",
];

export function verboseRow(run: RunSummary): string[] {
  return [
    run.id,
    run.workflowName,
    runStatusText(run.status),
    String(run.attempt),
    run.actor || "?",
    when(run.createTime),
    when(run.endTime) || "-",
    duration(run.createTime, run.endTime),
    waitingText(run.waiting),
  ];
}
