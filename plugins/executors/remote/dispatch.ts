// One remote step: a dispatch through the hub per attempt, its events turned
// into the executor port's StepEvents. A worker lost before the step wrote
// anything gets the step sent again (attempt + 1, a new lease with a higher
// epoch, so the old worker is fenced off), up to the limit; a worker lost
// after a write fails the step: it may have changed something, and running
// it twice could change it twice (the write-then-fail rule).
import {
  type DispatchEvent,
  extensionProtocol,
  type Placement,
  type StepEvent,
  type StepWork,
} from "../../../runtime/mod.ts";
import type { RemoteOptions } from "./options.ts";

type Exited = Extract<StepEvent, { type: "exited" }>;
type Lost = Extract<DispatchEvent, { type: "workerLost" }>;

const exitedWith = (error: string, errorCode: string, cancelled = false): Exited => ({
  type: "exited",
  exitCode: cancelled ? 130 : 1,
  cancelled,
  timedOut: false,
  stdout: "",
  stdoutTruncated: false,
  ...(cancelled ? {} : { error, errorCode }),
});

export async function* dispatchRemote(
  o: Required<RemoteOptions>,
  step: StepWork,
  signal: AbortSignal,
): AsyncGenerator<StepEvent> {
  const { placement: wanted, attempt: firstAttempt, adoptLease, ...work } = step;
  const placement: Placement = {
    target: wanted?.target,
    labels: wanted?.labels,
    executor: wanted?.executor,
    ...(work.extension ? { minProtocol: extensionProtocol } : {}),
  };
  const first = firstAttempt ?? 1;
  for (let attempt = first;; attempt++) {
    // A taken-over step follows its worker's lease first (0027); a re-dispatch places it anew.
    const adopt = attempt === first ? adoptLease : undefined;
    const lost = yield* oneAttempt(
      o,
      work,
      attempt,
      placement,
      wanted?.queueTimeoutMs,
      signal,
      adopt,
    );
    if (!lost) return;
    if (signal.aborted) {
      yield exitedWith("", "", true);
      return;
    }
    const why = `worker ${lost.workerId} was lost (${lost.reason})`;
    if (!lost.hasWritten && attempt - first < o.redispatchLimit) {
      yield { type: "redispatched", attempt: attempt + 1, reason: why };
      continue;
    }
    yield exitedWith(
      lost.hasWritten
        ? `${why} after the step had written something: a step that has written is failed, ` +
          "never run again (the write-then-fail rule)"
        : `${why} on attempt ${attempt}, and a step is sent again at most ` +
          `${o.redispatchLimit} time${o.redispatchLimit === 1 ? "" : "s"}`,
      "worker_lost",
    );
    return;
  }
}

/**
 * One attempt. Yields the step's events up to `exited` and returns nothing,
 * or returns the workerLost that ended it. `placed` is held back until the
 * step has started, so `started` is still the first event of a step that
 * runs and `exited` the only one of a step that cannot start (the executor
 * contract); `queued` comes at once, while the step waits.
 */
async function* oneAttempt(
  o: Required<RemoteOptions>,
  work: StepWork,
  attempt: number,
  placement: Placement,
  queueTimeoutMs: number | undefined,
  signal: AbortSignal,
  adoptLease?: string,
): AsyncGenerator<StepEvent, Lost | undefined> {
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) inner.abort();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let queueTimedOut = false;
  let lastReason = "";
  let placed: Extract<StepEvent, { type: "placed" }> | undefined;
  let ended = false;
  const request = { work, attempt, placement, ...(adoptLease ? { adoptLease } : {}) };
  const events = o.dispatcher.dispatch(request, inner.signal)
    [Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      const e = next.value;
      switch (e.type) {
        case "queued":
          lastReason = e.reason;
          if (queueTimeoutMs !== undefined && timer === undefined) {
            timer = setTimeout(() => {
              queueTimedOut = true;
              inner.abort();
            }, queueTimeoutMs);
          }
          yield { type: "queued", reason: e.reason };
          break;
        case "placed":
          clearTimeout(timer);
          placed = {
            type: "placed",
            worker: e.workerName,
            leaseId: e.leaseId,
            epoch: Number(e.epoch),
            attempt,
          };
          break;
        case "wrote":
          // Recorded on the lease by the hub (hasWritten); the engine has no use for it yet.
          break;
        case "workerLost":
          ended = true;
          return e;
        case "started":
          // This executor reaps what it started: the recorded process names it.
          yield { ...e, process: { ...e.process, executor: "remote" } };
          if (placed) yield placed;
          placed = undefined;
          break;
        case "exited":
          ended = true;
          if (queueTimedOut && !signal.aborted) {
            yield {
              ...e,
              cancelled: false,
              error: `no worker took the step within its queue timeout of ${queueTimeoutMs} ms: ` +
                lastReason,
              errorCode: "queue_timeout",
            };
          } else if (e.error && placed) {
            yield { ...e, error: `${e.error} (on worker ${placed.worker})` };
          } else yield e;
          return undefined;
        default:
          yield e;
      }
    }
    ended = true;
    yield exitedWith("the worker hub ended the dispatch without an exit", "worker_lost");
    return undefined;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    if (!ended) {
      // The consumer stopped reading: cancel, and return only once the worker
      // has confirmed the step gone (its exit or its loss ends the stream).
      inner.abort();
      for (let n = await events.next(); !n.done; n = await events.next()) {
        if (n.value.type === "exited" || n.value.type === "workerLost") break;
      }
      await events.return?.(undefined);
    }
  }
}
