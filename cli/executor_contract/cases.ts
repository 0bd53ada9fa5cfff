// The Executor contract (runtime/ports/executor.ts): the promises every
// executor keeps, each a case run through real processes and signals. One
// suite, used by our tests (test/contracts/executor_contract.ts registers
// each case with Deno.test) and by `swamp executor test` (runner.ts).
// A case that does not apply to an executor (a feature it declares it lacks,
// processes it runs where this suite cannot see them) is reported as not
// applicable with the reason, never run and counted as passed.
import type { StepEvent } from "../../runtime/mod.ts";
import {
  assert,
  assertAllGone,
  assertEquals,
  assertMatch,
  hostPath,
  onHost,
  run,
  step,
  trackChildren,
} from "./harness.ts";
import { ownerCases } from "./cases_owner.ts";
import { type ContractCase, type Need } from "./contract_case.ts";

export { type ContractCase, notApplicable, type Profile } from "./contract_case.ts";

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

// Last: what an owner that stops, dies or hands over finds (cases_owner.ts).
cases.push(...ownerCases);
