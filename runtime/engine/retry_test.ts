import { assertEquals } from "../../test/helpers/mod.ts";
import { StepStatus } from "../run/status.ts";
import { isRetryable, retryPolicy, retryReason } from "./retry.ts";

Deno.test("backoff: none, fixed, and growing up to its max", () => {
  assertEquals(retryPolicy(undefined), undefined);
  assertEquals(retryPolicy({ attempts: 1, backoff: "1s" }), undefined);
  assertEquals(retryPolicy({ attempts: 3 })!.backoffMs(2), 0);
  const fixed = retryPolicy({ attempts: 3, backoff: "1m30s" })!;
  assertEquals([fixed.backoffMs(2), fixed.backoffMs(3)], [90_000, 90_000]);
  assertEquals(retryPolicy({ attempts: 2, backoff: 2 })!.backoffMs(2), 2000);
  const growing = retryPolicy({ attempts: 6, backoff: { initial: "1s", max: "5s" } })!;
  assertEquals([2, 3, 4, 5, 6].map((n) => growing.backoffMs(n)), [1000, 2000, 4000, 5000, 5000]);
  const tripled = retryPolicy({ attempts: 3, backoff: { initial: "100ms", factor: 3 } })!;
  assertEquals([tripled.backoffMs(2), tripled.backoffMs(3)], [100, 300]);
});

Deno.test("only failures are retried, never a cancel or a lost worker", () => {
  const live = new AbortController().signal;
  const failed = (reason: string) => ({ status: StepStatus.FAILED, reason });
  assertEquals(isRetryable(failed("exited with status 1"), live), true);
  assertEquals(isRetryable(failed("step_timeout: the step ran longer"), live), true);
  assertEquals(isRetryable(failed("worker_lost: worker w1 was lost"), live), false);
  assertEquals(isRetryable({ status: StepStatus.CANCELLED, reason: "cancelled" }, live), false);
  assertEquals(isRetryable(failed("exited with status 1"), AbortSignal.abort()), false);
  assertEquals(
    retryReason(1, 3, "exited with status 2", 1500),
    "attempt 1 of 3 failed (exited with status 2); attempt 2 starts in 1.5s",
  );
});
