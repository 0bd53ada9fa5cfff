// The Executor contract (runtime/ports/executor.ts): the promises every
// executor keeps, each a case run through real processes and signals. One
// suite, used by our tests (test/contracts/executor_contract.ts registers
// each case with Deno.test) and by `swamp executor test` (runner.ts).
// A case that does not apply to an executor (a feature it declares it lacks,
// processes it runs where this suite cannot see them) is reported as not
// applicable with the reason, never run and counted as passed.
import { spawn } from "node:child_process";
import {
  type Executor,
  type ExecutorFeatures,
  isSameProcessAlive,
  processStartTime,
  type RecordedProcess,
  type StepEvent,
  type StepWork,
} from "../../runtime/mod.ts";
import {
  assert,
  assertAllGone,
  assertEquals,
  assertMatch,
  groupPids,
  hostPath,
  onHost,
  type Run,
  run,
  step,
  trackChildren,
  type Tracker,
} from "./harness.ts";

/** What a case needs: a declared feature, or a way to see what a step leaves behind. */
export type Need = keyof ExecutorFeatures | "seesLeftovers" | "linux" | "unleased";

/** What the suite knows of the executor under test, found before any case runs. */
export interface Profile {
  features: ExecutorFeatures;
  /** Its steps run as processes of this host (no containerId), seen in /proc. */
  hostProcesses: boolean;
  /** The suite can list what is left of a container step (given by the caller). */
  seesContainers: boolean;
  /** Its steps run under a lease (a worker's): `started` names it. */
  leased?: boolean;
}

export interface ContractCase {
  title: string;
  needs: Need[];
  fn: (ex: Executor, t: Tracker, another: () => Promise<Executor>) => Promise<void>;
}

/** Why `c` does not apply to an executor of `profile`; undefined when it does. */
export function notApplicable(c: ContractCase, profile: Profile): string | undefined {
  for (const need of c.needs) {
    if (need === "linux" && Deno.build.os !== "linux") {
      return `needs Linux (/proc) to read process start times; this is ${Deno.build.os}`;
    }
    if (need === "seesLeftovers") {
      if (profile.hostProcesses && Deno.build.os !== "linux") {
        return "needs Linux (/proc) to see the step's processes are gone";
      }
      if (!profile.hostProcesses && !profile.seesContainers) {
        return "its steps do not run as processes of this host (they run in containers), " +
          "and this suite has no way to list what they leave, so that nothing is left " +
          "cannot be checked";
      }
    }
    if (need === "unleased" && profile.leased) {
      return "its steps run under a lease, which an owner that takes the run over adopts " +
        "instead of starting the step again: the lease, taken before the step is sent, keeps " +
        "it from running twice";
    }
    if (need in profile.features && !profile.features[need as keyof ExecutorFeatures]) {
      return `the executor declares it lacks ${need} (features.${need} is false)`;
    }
  }
  return undefined;
}

const cases: ContractCase[] = [];
const test = (title: string, needs: Need[], fn: ContractCase["fn"]) =>
  cases.push({ title, needs, fn });

/** Every promise of the contract, in the order they are checked. */
export const contractCases: readonly ContractCase[] = cases;

test("started comes first, exited last, with the exit code", [], async (ex, t) => {
  const r = await run(ex, t, step({ script: "sleep 0.05; exit 0" }));
  assertEquals(r.events[0].type, "started");
  assertEquals(r.started?.executor, ex.name);
  assert(
    r.started!.processStart !== "" || r.started!.containerId,
    "a start time is recorded (a container's id, never reused, needs none)",
  );
  assertEquals([r.exited.exitCode, r.exited.cancelled, r.exited.timedOut], [0, false, false]);
  assertEquals(r.exited.error, undefined);
  assertEquals((await run(ex, t, step({ script: "exit 3" }))).exited.exitCode, 3);
  assertEquals((await run(ex, t, step({ argv: ["sh", "-c", "exit 4"] }))).exited.exitCode, 4);
  const killed = await run(ex, t, step({ script: "kill -KILL $$" }));
  assertEquals(killed.exited.signal, "SIGKILL");
  assert(killed.exited.exitCode !== 0, "a signal death is not success");
});

test("output is streamed while the process runs", ["streamsLogs"], async (ex, t) => {
  // The script only exits once the test has seen its first line: if output
  // were held back until exit, the step would time out instead.
  const dir = await Deno.makeTempDir({ prefix: "swamp-contract-" });
  try {
    const go = `${dir}/go`;
    const script = 'echo first; while [ ! -e "$GO" ]; do sleep 0.02; done; echo second';
    // The step runs in `dir`, so it sees the file wherever it runs.
    const work = step({ script }, { env: { PATH: hostPath, GO: go }, cwd: dir, timeoutMs: 20_000 });
    const r = await run(ex, t, work, async (e) => {
      if (e.type === "output" && e.line === "first") await Deno.writeTextFile(go, "");
    });
    assertEquals(r.exited.timedOut, false, "the first line arrived before the step ended");
    assertEquals(r.stdout, ["first", "second"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("stdout and stderr are separate lines, in order", [], async (ex, t) => {
  const script = "echo out1; echo err1 >&2; printf 'out2\\r\\n'; echo err2 >&2; echo; " +
    "printf 'no newline'";
  const r = await run(ex, t, step({ script }));
  assertEquals(r.stdout, ["out1", "out2", "", "no newline"]);
  assertEquals(r.stderr, ["err1", "err2"]);
  assertEquals(r.exited.stdout, "out1\nout2\r\n\nno newline");
  assertEquals(r.exited.stdoutTruncated, false);
});

test("a step that exits at once loses no output", [], async (ex, t) => {
  // Fast exits race the reading of the pipes and of the process's identity.
  for (let i = 0; i < 20; i++) {
    const r = await run(ex, t, step({ script: "echo a; echo b >&2; printf c" }));
    assertEquals([r.stdout, r.stderr, r.exited.stdout], [["a", "c"], ["b"], "a\nc"]);
    assert(r.started?.processStart || r.started?.containerId, "a start time is recorded");
  }
});

test("long lines and invalid UTF-8 do not break the stream", [], async (ex, t) => {
  const script = "head -c 300000 /dev/zero | tr '\\0' a; echo; printf 'x\\377\\376y\\n'; " +
    "printf '\\342\\202'; echo end";
  const r = await run(ex, t, step({ script }));
  assertEquals(r.exited.exitCode, 0);
  const as = r.stdout.filter((l) => /^a+$/.test(l)).reduce((n, l) => n + l.length, 0);
  assertEquals(as, 300000, "every byte of the long line is in the log");
  assert(r.stdout.some((l) => l.startsWith("x") && l.endsWith("y")), "invalid bytes kept");
  assertMatch(r.stdout.at(-1)!, /end$/);
});

test("the environment is exactly step.env", [], async (ex, t) => {
  Deno.env.set("SWAMP_CONTRACT_LEAK", "from the test process");
  try {
    const env = { PATH: "/usr/bin:/bin", ONLY_THIS: "x y", EMPTY: "" };
    const r = await run(ex, t, step({ argv: ["env"] }, { env }));
    assert(r.stdout.includes("ONLY_THIS=x y"), r.stdout.join("\n"));
    assert(r.stdout.includes("EMPTY="), "an empty value is kept");
    assert(r.stdout.includes("PATH=/usr/bin:/bin"), "a given PATH is used as is");
    assert(!r.stdout.some((l) => l.startsWith("SWAMP_CONTRACT_LEAK=")), "no leak");
    const noPath = await run(ex, t, step({ script: 'echo "path=$PATH"' }, { env: {} }));
    assertMatch(noPath.stdout[0], /^path=.+/, "PATH is added when absent");
  } finally {
    Deno.env.delete("SWAMP_CONTRACT_LEAK");
  }
});

test("the step runs in cwd", [], async (ex, t) => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-contract-" });
  try {
    const r = await run(ex, t, step({ argv: ["pwd", "-P"] }, { cwd: dir }));
    assertEquals(r.stdout, [await Deno.realPath(dir)]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("stdout is kept up to outputLimitBytes; the log gets all", [], async (ex, t) => {
  const script = "i=0; while [ $i -lt 50 ]; do echo 0123456789abcdefghi; i=$((i+1)); done";
  const r = await run(ex, t, step({ script }, { outputLimitBytes: 100 }));
  assertEquals(r.exited.stdout, "0123456789abcdefghi\n".repeat(5));
  assertEquals(r.exited.stdoutTruncated, true);
  assertEquals(r.stdout.length, 50);
});

test(
  "a step over its memory limit is reported as out of memory",
  ["resourceLimits", "seesLeftovers"],
  async (ex, t) => {
    // sort holds its whole input, 3,000,000 short lines (about 100 MiB with its pointers and
    // the allocator's overhead), against a 32 MiB limit. Not one huge line: busybox sort grew
    // a single 96 MiB line past a 32 MiB cgroup v1 limit and finished in 3 of 10 runs here,
    // while 3,000,000 lines were stopped at the limit in 12 of 12.
    const script = "echo ready; seq 1 3000000 | sort > /dev/null";
    const limits = { memoryBytes: 32 << 20 };
    const r = await run(ex, t, step({ script }, { limits }));
    assertEquals(r.exited.outOfMemory, true, JSON.stringify(r.exited));
    assertEquals(r.exited.errorCode, "out_of_memory");
    assertMatch(r.exited.error ?? "", /out of memory/);
    assert(r.exited.exitCode !== 0);
    await assertAllGone(r, t);
    // Killed by a signal under the same limit, not for memory: not reported as out of memory.
    const killed = await run(ex, t, step({ script: "kill -KILL $$" }, { limits }));
    assertEquals([killed.exited.exitCode, killed.exited.signal], [137, "SIGKILL"]);
    assertEquals(killed.exited.outOfMemory, undefined, JSON.stringify(killed.exited));
    assertEquals(killed.exited.errorCode, undefined);
    await assertAllGone(killed, t);
  },
);

test(
  "a step that cannot start ends with an exited event that says why",
  ["seesLeftovers"],
  async (ex, t) => {
    for (
      const work of [
        step({ argv: ["/nonexistent/swamp-contract-no-such-program"] }),
        step({ script: "true" }, { cwd: "/nonexistent/swamp-contract-no-such-dir" }),
      ]
    ) {
      const r = await run(ex, t, work);
      // A local process that cannot start never started; a container may
      // have started and found nothing to run in it.
      if (!r.started?.containerId) assertEquals(r.events.length, 1, JSON.stringify(r.events));
      assert(r.exited.error, "error says why");
      assert(r.exited.exitCode !== 0);
      await assertAllGone(r, t);
    }
  },
);

test(
  "background processes left at a normal exit are ended before exited",
  ["seesLeftovers"],
  async (ex, t) => {
    const script = "sleep 300 & echo child $!; echo done";
    const r = await run(ex, t, step({ script }), trackChildren(t));
    assertEquals([r.exited.exitCode, r.exited.cancelled], [0, false]);
    assert(r.stdout.includes("done"));
    await assertAllGone(r, t);
  },
);

test(
  "timeoutMs ends the step as timed out, group gone",
  ["canCancel", "seesLeftovers"],
  async (ex, t) => {
    const script = "sleep 300 & echo child $!; sleep 300";
    const r = await run(ex, t, step({ script }, { timeoutMs: 300 }), trackChildren(t));
    assertEquals([r.exited.timedOut, r.exited.cancelled], [true, false]);
    assertEquals(r.stages.at(-1), "confirmed");
    await assertAllGone(r, t);
  },
);

const ready = (e: StepEvent, cancel: () => void) => {
  if (e.type === "output" && e.line === "ready") cancel();
};

test(
  "cancel: a step that exits on SIGINT needs no harder signal",
  ["canCancel", "seesLeftovers"],
  async (ex, t) => {
    // A long grace: a loaded machine may take a while to see the group empty,
    // and only a step that ignores SIGINT should get the next signal.
    const work = step({ script: "echo ready; exec sleep 300" }, { graceMs: 5000 });
    const r = await run(ex, t, work, ready);
    assertEquals(r.exited.cancelled, true);
    assertEquals(r.stages, ["interrupted", "confirmed"]);
    const confirmedAt = r.events.findIndex((e) =>
      e.type === "cancelStage" && e.stage === "confirmed"
    );
    assertEquals(confirmedAt, r.events.length - 2, "confirmed comes right before exited");
    await assertAllGone(r, t);
  },
);

test(
  "cancel: a step that ignores SIGINT and SIGTERM is killed",
  ["canCancel", "seesLeftovers"],
  async (ex, t) => {
    const script = "trap '' INT TERM; echo ready; while :; do sleep 0.05; done";
    const r = await run(ex, t, step({ script }), ready);
    assertEquals(r.exited.cancelled, true);
    assertEquals(r.stages, ["interrupted", "terminated", "killed", "confirmed"]);
    for (const e of r.events) if (e.type === "cancelStage") assert(e.detail !== "");
    await assertAllGone(r, t);
  },
);

test(
  "cancel: grandchildren in the group are gone before exited",
  ["canCancel", "seesLeftovers"],
  async (ex, t) => {
    const script = "sleep 300 & echo child $!; (trap '' INT; sleep 300) & echo child $!; " +
      "echo ready; wait";
    const r = await run(ex, t, step({ script }), async (e, cancel) => {
      await trackChildren(t)(e);
      ready(e, cancel);
    });
    assertEquals(r.exited.cancelled, true);
    assertEquals(r.stages.at(-1), "confirmed");
    // On this host both children were seen by pid; in a container, its removal covers them.
    assertEquals(t.pids.length, onHost(r.started) ? 2 : 0, "both children were seen");
    await assertAllGone(r, t);
  },
);

test("cancel: an already aborted signal ends at once", ["canCancel", "seesLeftovers"], async (
  ex,
  t,
) => {
  const controller = new AbortController();
  controller.abort();
  const r = await run(ex, t, step({ script: "sleep 300" }), undefined, controller);
  assertEquals(r.exited.cancelled, true);
  await assertAllGone(r, t);
});

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
