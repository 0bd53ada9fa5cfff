import type { StepEvent } from "../ports/executor.ts";

type Exited = Extract<StepEvent, { type: "exited" }>;

/** The one `exited` event of a step that could not be run at all, saying why. */
export function couldNotRun(error: string, exitCode: number, errorCode?: string): Exited {
  return {
    type: "exited",
    exitCode,
    cancelled: false,
    timedOut: false,
    stdout: "",
    stdoutTruncated: false,
    error,
    ...(errorCode ? { errorCode } : {}),
  };
}
