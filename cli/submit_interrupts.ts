import { create, type JsonValue } from "@bufbuild/protobuf";
import { GetRunResponseSchema } from "../proto/gen/swamp/v1/run_service_pb.ts";
import type { Run } from "../proto/gen/swamp/v1/run_pb.ts";
import { isSettledRun, runStatusText } from "../runtime/mod.ts";
import type { CommandContext } from "./context.ts";
import { exitCodeFor } from "./exit_codes.ts";
import { leftRunHints, outcomeExit } from "./follow.ts";
import { cliJson } from "./json_shape.ts";
import { paintStatus } from "./render_run.ts";

// Ctrl-C while `workflow run` is still submitting, before the run id is known
// (issue 17). Nothing of the run has been shown yet, so the press means "do
// not start it" rather than "stop watching it": the submission is not cut in
// half (it may already have created the run and started its supervisor), but
// the run it creates is cancelled at once. A second press stops waiting.

/** The reason recorded on a run cancelled this way. */
export const interruptedStartReason = "interrupted from the terminal while starting";

/** What a guarded submission gave: its result, and whether Ctrl-C asked to drop it. */
export type Guarded<T> = { value: T; interrupted: boolean } | { gaveUp: true };

/** Runs `work` with Ctrl-C counted: one press marks it interrupted, a second gives up waiting. */
export async function guardInterrupts<T>(
  ctx: CommandContext,
  work: () => Promise<T>,
  firstPress: string,
): Promise<Guarded<T>> {
  let presses = 0;
  let giveUp = () => {};
  const gaveUp = new Promise<{ gaveUp: true }>((resolve) =>
    giveUp = () => resolve({ gaveUp: true })
  );
  const onInterrupt = () => {
    presses++;
    if (presses === 1) ctx.out.stderr(`${ctx.out.yellow(firstPress)}\n`);
    else giveUp();
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await Promise.race([
      work().then((value) => ({ value, interrupted: presses > 0 })),
      gaveUp,
    ]);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/** The second press came before the submission returned: whether the run exists is unknown. */
export function leftWhileSubmitting(ctx: CommandContext): number {
  ctx.out.stderr(
    "stopped waiting for the submission: the run may have been created and go on.\n" +
      "  find it:     swamp workflow list --status pending --status running\n",
  );
  return exitCodeFor("run_active");
}

/**
 * The run was created after Ctrl-C: cancel it and wait for the cancel, then
 * report it as `workflow run` reports a run (its id first, its final state
 * last) and exit with its outcome, 10 (run_cancelled) as a rule.
 */
export async function cancelInterruptedStart(ctx: CommandContext, runId: string): Promise<number> {
  const cancelled = await guardInterrupts(
    ctx,
    () =>
      ctx.runs.cancelRun({ runId, reason: interruptedStartReason }).then((r) => r.run!).catch(
        async () => (await ctx.runs.getRun({ runId })).run!,
      ),
    "waiting for the cancel; Ctrl-C again stops waiting (the cancel goes on)",
  );
  if ("gaveUp" in cancelled) {
    for (const line of leftRunHints(runId, "cancelling")) ctx.out.stderr(`${line}\n`);
    return exitCodeFor("run_active");
  }
  return reportStart(ctx, cancelled.value);
}

function reportStart(ctx: CommandContext, run: Run): number {
  const document: JsonValue = cliJson(GetRunResponseSchema, create(GetRunResponseSchema, { run }));
  if (ctx.out.json) ctx.out.raw(`${JSON.stringify(document)}\n`);
  ctx.out.info(
    `run ${run.id} ${paintStatus(ctx.out, runStatusText(run.status))}${
      run.reason ? `: ${run.reason}` : ""
    }`,
  );
  if (!isSettledRun(run.status)) {
    for (const line of leftRunHints(run.id, "cancelling")) ctx.out.stderr(`${line}\n`);
    return exitCodeFor("run_active");
  }
  const failure = outcomeExit(run);
  return failure ? exitCodeFor(failure) : 0;
}
