// Runs the executor contract (cases.ts) against one executor and collects
// what held: each promise passed, failed (and why) or not applicable (and
// why). `swamp executor test` prints that; our own tests register each case
// with Deno.test through the same `profileOf` and `runCase`.
import { describeCause } from "../../runtime/mod.ts";
import { type ContractCase, contractCases, notApplicable, type Profile } from "./cases.ts";
import { assertEquals, type Made, run, step, Tracker } from "./harness.ts";

export type { ContractCase, Made, Profile };
export { contractCases, notApplicable };

export type PromiseOutcome = "passed" | "failed" | "not_applicable";

export interface PromiseResult {
  promise: string;
  result: PromiseOutcome;
  /** Why it failed, or why it does not apply. */
  reason?: string;
  durationMs: number;
}

/**
 * What the cases are chosen by: the executor's declared features, and
 * whether its steps run as processes of this host, from one trivial step.
 */
export async function profileOf(make: () => Promise<Made>): Promise<Profile> {
  const made = await make();
  const t = new Tracker();
  try {
    // An executor that cannot even run this is taken as running host processes: every case
    // then runs, and each fails with its own reason rather than being set aside.
    const r = await run(made.executor, t, step({ script: "exit 0" })).catch(() => undefined);
    return {
      features: { ...made.executor.features },
      hostProcesses: r?.started?.containerId === undefined,
      leased: Boolean(r?.started?.leaseId),
      seesContainers: made.leftovers !== undefined,
    };
  } finally {
    await t.cleanup();
    await made.dispose();
  }
}

/** Runs one case on fresh executors; throws what broke the promise. */
export async function runCase(
  c: ContractCase,
  make: () => Promise<Made>,
  profile: Profile,
): Promise<void> {
  const made: Made[] = [await make()];
  const t = new Tracker();
  try {
    // The features the cases were chosen by are the executor's own.
    assertEquals(made[0].executor.features, profile.features);
    t.leftovers = made[0].leftovers;
    const another = async () => {
      made.push(await make());
      return made.at(-1)!.executor;
    };
    await c.fn(made[0].executor, t, another);
  } finally {
    await t.cleanup();
    for (const m of made) await m.dispose();
  }
}

/** Every promise of the contract against the executor `make` makes, in order. */
export async function runContract(
  make: () => Promise<Made>,
  onResult?: (result: PromiseResult) => void,
): Promise<{ profile: Profile; results: PromiseResult[] }> {
  const profile = await profileOf(make);
  const results: PromiseResult[] = [];
  for (const c of contractCases) {
    const started = performance.now();
    const skip = notApplicable(c, profile);
    let result: PromiseResult;
    if (skip !== undefined) {
      result = { promise: c.title, result: "not_applicable", reason: skip, durationMs: 0 };
    } else {
      try {
        await withDeadline(runCase(c, make, profile), CASE_DEADLINE_MS);
        result = { promise: c.title, result: "passed", durationMs: 0 };
      } catch (error) {
        result = { promise: c.title, result: "failed", reason: reasonOf(error), durationMs: 0 };
      }
    }
    result.durationMs = Math.round(performance.now() - started);
    results.push(result);
    onResult?.(result);
  }
  return { profile, results };
}

/** A case whose executor never ends its stream (not even after the abort) fails after this. */
const CASE_DEADLINE_MS = 120_000;

async function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`the case did not end within ${ms / 1000} s (the stream never ended)`)),
      ms,
    );
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An assertion's message, on one line, without the diff that follows it. */
function reasonOf(error: unknown): string {
  const text = describeCause(error).split("\n").map((l) => l.trim()).filter(Boolean);
  return text.slice(0, 3).join(" ").slice(0, 400);
}
