import { JobStatus, RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

export { JobStatus, RunStatus, StepStatus };

const terminalRun = new Set([
  RunStatus.SUCCEEDED,
  RunStatus.FAILED,
  RunStatus.CANCELLED,
  RunStatus.ABANDONED,
]);

const terminalStep = new Set([
  StepStatus.SUCCEEDED,
  StepStatus.FAILED,
  StepStatus.SKIPPED,
  StepStatus.CANCELLED,
  StepStatus.ABANDONED,
]);

export function isTerminalRun(status: RunStatus): boolean {
  return terminalRun.has(status);
}

/** Terminal, or suspended: nobody owns the run and nothing of it runs. */
export function isSettledRun(status: RunStatus): boolean {
  return terminalRun.has(status) || status === RunStatus.SUSPENDED;
}

/** A job still to finish: pending, running, or waiting at a gate of a suspended run. */
export function isActiveJob(status: JobStatus): boolean {
  return status === JobStatus.PENDING || status === JobStatus.RUNNING ||
    status === JobStatus.WAITING_APPROVAL;
}

export function isTerminalStep(status: StepStatus): boolean {
  return terminalStep.has(status);
}

/** "RUN_STATUS_SUCCEEDED" → "succeeded", for people. */
export function runStatusText(status: RunStatus): string {
  return (RunStatus[status] ?? "unspecified").toLowerCase();
}

export function stepStatusText(status: StepStatus): string {
  return (StepStatus[status] ?? "unspecified").toLowerCase();
}

export function jobStatusText(status: JobStatus): string {
  return (JobStatus[status] ?? "unspecified").toLowerCase();
}

/** Parses "running" or "RUN_STATUS_RUNNING" (any case). */
export function parseRunStatus(text: string): RunStatus | undefined {
  const key = text.toUpperCase().replace(/^RUN_STATUS_/, "");
  const value = (RunStatus as unknown as Record<string, unknown>)[key];
  return typeof value === "number" && value !== RunStatus.UNSPECIFIED
    ? value as RunStatus
    : undefined;
}
