// The Executor contract's cases about a step's owner (cases.ts has the rest
// and the order): one that stops reading early, one that stops or cancels at
// `started` while it records the step, and a fresh executor that reaps what a
// dead owner recorded. Appended to contractCases after the others.
import { spawn } from "node:child_process";
import {
  isSameProcessAlive,
  processStartTime,
  type RecordedProcess,
  type StepWork,
} from "../../runtime/mod.ts";
import type { ContractCase, Need } from "./contract_case.ts";
import {
  assert,
  assertAllGone,
  assertEquals,
  groupPids,
  hostPath,
  type Run,
  run,
  step,
  trackChildren,
} from "./harness.ts";

export const ownerCases: ContractCase[] = [];
const test = (title: string, needs: Need[], fn: ContractCase["fn"]) =>
  ownerCases.push({ title, needs, fn });

test("a consumer that stops reading early leaves nothing running", ["seesLeftovers"], async (
  ex,
  t,
) => {
  const it = ex.dispatch(
    step({ script: "sleep 300 & echo child $!; echo ready; wait" }),
    new AbortController().signal,
  )[Symbol.asyncIterator]();
  let started: RecordedProcess | undefined;
  for (let e = await it.next(); !e.done; e = await it.next()) {
    if (e.value.type === "started") t.groups.push(started = e.value.process);
    await trackChildren(t)(e.value);
    if (e.value.type === "output" && e.value.line === "ready") break;
  }
  await it.return?.();
  assert(started, "the step started");
  await assertAllGone({ started } as Run, t);
});

/**
 * Runs `fn` with a step that writes `ran` into a fresh directory it runs in, and whether that
 * file exists; the directory is removed after.
 */
async function withMarkingStep(
  fn: (work: StepWork, ran: () => Promise<boolean>, mark: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-contract-" });
  try {
    const mark = `${dir}/ran`;
    const work = step({ script: 'echo ran > "$MARK"' }, {
      env: { PATH: hostPath, MARK: mark },
      cwd: dir,
    });
    await fn(work, () => Deno.stat(mark).then(() => true, () => false), mark);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

test("nothing of a step runs before its consumer has taken `started`", ["unleased"], (ex, t) =>
  // An engine records the step with what `started` says before it asks for the next event:
  // one that stops there (its record failed, or it died) must leave a step that ran nothing,
  // or a new owner would run it a second time (decision 0039).
  withMarkingStep(async (work, ran, mark) => {
    const it = ex.dispatch(work, new AbortController().signal)[Symbol.asyncIterator]();
    const first = await it.next();
    assertEquals(first.value?.type, "started");
    if (first.value?.type === "started") t.groups.push(first.value.process);
    // Held a while, as a record being written on a slow disk holds it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await it.return?.();
    assertEquals(await ran(), false, "the step's command ran before its consumer took `started`");
    // The same step, read to its end, does write the file: the check above can fail.
    const r = await run(ex, t, work);
    assertEquals([r.exited.exitCode, await Deno.readTextFile(mark)], [0, "ran\n"]);
  }));

test(
  "a step cancelled at `started` ends cancelled, having run nothing",
  ["canCancel", "unleased"],
  (ex, t) =>
    // Cancelled while its record is being written: it never gets the go-ahead (decision 0039).
    withMarkingStep(async (work, ran) => {
      const r = await run(ex, t, work, (e, cancel) => {
        if (e.type === "started") cancel();
      });
      assertEquals(r.exited.cancelled, true);
      assertEquals(
        await ran(),
        false,
        "the step's command ran though cancelled before its go-ahead",
      );
    }),
);

test("reap ends a live recorded process group", ["seesLeftovers"], async (ex, t, another) => {
  const reaper = await another(); // as if the owner had died: a fresh executor reaps
  let lines: string[] = [];
  const script = "sleep 300 & echo child $!; sleep 300 & echo child $!; echo ready; wait";
  const r = await run(ex, t, step({ script }), async (e, _cancel, so) => {
    await trackChildren(t)(e);
    if (e.type === "output" && e.line === "ready") lines = await reaper.reap(so.started!);
  });
  assert(lines.length > 0, "reap says what it did");
  assertEquals(r.exited.cancelled, false);
  await assertAllGone(r, t);
});

test("reap leaves alone a process that reuses the recorded pid", ["linux"], async (ex) => {
  const sleeper = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
  const exit = new Promise((resolve) => sleeper.once("exit", resolve));
  try {
    const pid = sleeper.pid!;
    const start = (await processStartTime(pid))!;
    const fake: RecordedProcess = {
      executor: ex.name,
      pid,
      pgid: pid,
      processStart: String(BigInt(start) - 1n), // the recorded process started earlier
    };
    const lines = await ex.reap(fake);
    assert(lines.length > 0, "reap says what it did");
    assertEquals(await isSameProcessAlive(pid, start), true, "the other process lives");
    assertEquals(groupPids(pid), [pid], "and its group is untouched");
  } finally {
    sleeper.kill("SIGKILL");
    await exit;
  }
});
