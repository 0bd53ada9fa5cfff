// A supervisor that waited for the repository's next run creates it as the
// command would have (the same run service, its checks and errors), owns it
// in this process, and tells the command over the socket (docs/design/0032).
import { clone, create, toBinary } from "@bufbuild/protobuf";
import { type Run, RunSchema } from "../proto/gen/swamp/v1/run_pb.ts";
import { DiagnosticSchema } from "../proto/gen/swamp/v1/errors_pb.ts";
import {
  CancelRunRequestSchema,
  SubmitRunRequestSchema,
} from "../proto/gen/swamp/v1/run_service_pb.ts";
import {
  asSwampError,
  type CallContext,
  createAndSuperviseRun,
  describeCause,
  ErrorCode,
  localRunService,
  repoLocator,
  type RunStore,
  type SupervisorOptions,
  SwampError,
} from "../runtime/mod.ts";
import type { EngineDeps } from "./engine_deps.ts";
import type { lazyEvaluator } from "./evaluator.ts";
import { localPrincipal, runServiceEnv } from "./wiring.ts";
import type { Submission } from "./standby_server.ts";
import { type StandbyError, toBase64 } from "./standby_wire.ts";
import { UsageError } from "./types.ts";
import { interruptedStartReason } from "./submit_interrupts.ts";

export interface OpenedRepo {
  root: string;
  store: RunStore;
  evaluator: ReturnType<typeof lazyEvaluator>;
  deps: EngineDeps;
}

/**
 * Creates the submitted run and supervises it to its end. `onRun` is told
 * its id as soon as it exists. Errors before the run exists go back to the
 * command (and this returns); after, they are the supervisor's own. A
 * command that ends before it takes the run (Ctrl-C while starting) gets it
 * cancelled, as the command itself would.
 */
export async function runSubmitted(
  opened: OpenedRepo,
  submission: Submission,
  options: SupervisorOptions,
  onRun: (runId: string) => void,
): Promise<void> {
  const ctx: CallContext = { principal: localPrincipal(), signal: new AbortController().signal };
  // Stops the run as the supervisor's own signal does, when the cancel below cannot be written.
  const stop = new AbortController();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  let supervising: Promise<Run> | undefined;
  let created = false;
  let claimed = () => {};
  const isClaimed = new Promise<void>((resolve) => claimed = resolve);
  const service = localRunService({
    ...runServiceEnv(repoLocator(opened.root, opened.root)),
    openStore: () => Promise.resolve(opened.store),
    executors: () => Promise.resolve(opened.deps.executors!),
    expressions: () => opened.evaluator,
    submittedAhead: undefined,
    startRun: (spec) =>
      new Promise<Run>((resolve, reject) => {
        supervising = createAndSuperviseRun(opened.deps, spec, {
          ...options,
          signal: stop.signal,
          onCreated: (run) => {
            created = true;
            onRun(run.id);
            resolve(clone(RunSchema, run));
          },
          onClaimed: () => {
            options.onClaimed?.();
            claimed();
          },
        });
        supervising.catch(reject);
      }),
  });
  const { workflow, inputs, detach } = submission.submit.request;
  let run: Run;
  try {
    const request = create(SubmitRunRequestSchema, { workflow, detach, inputs: inputs as never });
    run = (await service.submitRun(request, ctx)).run!;
  } catch (error) {
    if (created) throw error;
    await refuseSubmission(submission, error);
    return;
  }
  await submission.send({ created: toBase64(toBinary(RunSchema, run)), pid: Deno.pid });
  const taken = submission.next();
  const owned = await Promise.race([
    isClaimed.then(() => true),
    supervising!.then(() => false, () => false),
  ]);
  // Not claimed: closing without `claimed` has the command record the run abandoned at once.
  if (owned) await submission.send({ claimed: true });
  if (!await taken) {
    const cancel = create(CancelRunRequestSchema, {
      runId: run.id,
      reason: interruptedStartReason,
      noWait: true,
    });
    await service.cancelRun(cancel, ctx).catch(() => stop.abort());
  }
  submission.close();
  await supervising;
}

/** Answers the command with the error that kept its run from being created. */
export async function refuseSubmission(submission: Submission, error: unknown): Promise<void> {
  await submission.send({ error: errorReply(error) });
  submission.close();
}

/** An error as the command reports it: usage errors keep their code, anything else is `internal`. */
function errorReply(error: unknown): StandbyError {
  const swampError = error instanceof UsageError
    ? new SwampError(ErrorCode.USAGE, error.message, { hint: error.hint })
    : asSwampError(error);
  return {
    code: swampError.code,
    message: swampError.message,
    hint: swampError.hint,
    diagnostics: swampError.diagnostics.map((d) => toBase64(toBinary(DiagnosticSchema, d))),
    cause: describeCause(swampError.cause),
  };
}
