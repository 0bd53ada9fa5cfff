// The hub's dispatch API with a real worker process: an in-process hub
// served over TLS by the real Connect server, and `swamp worker connect`
// running the steps. Output and exit come back in order; a cancel reaches the
// worker and its stages come back; a step placed by labels nobody has waits.
import { type DispatchEvent, type StepWork } from "../../runtime/mod.ts";
import { assert, assertEquals } from "../helpers/mod.ts";
import { startTestHub } from "../helpers/hub.ts";

/** A hub with one worker, w1, labelled pool=a, running two steps at once. */
async function setup() {
  const test = await startTestHub();
  const worker = await test.connect("w1", ["--label", "pool=a", "--concurrency", "2"]);
  return { hub: test.hub, worker, [Symbol.asyncDispose]: () => test[Symbol.asyncDispose]() };
}

const work = (stepId: string, script: string): StepWork => ({
  runId: "run-1",
  stepId,
  command: { script },
  env: {},
  graceMs: 2000,
  outputLimitBytes: 1 << 16,
});

Deno.test("a dispatched step runs on the worker; its output and exit come back in order", async () => {
  await using t = await setup();
  const events: DispatchEvent[] = [];
  const script = 'echo one; echo two >&2; echo "worker=$SWAMP_WORKER_ID"; exit 3';
  for await (
    const event of t.hub.dispatch(
      { work: work("s1", script), attempt: 1, placement: { labels: { pool: "a" } } },
      new AbortController().signal,
    )
  ) events.push(event);
  const placed = events[0] as Extract<DispatchEvent, { type: "placed" }>;
  assertEquals(placed.type, "placed");
  assertEquals(placed.epoch, 1n);
  assertEquals(events[1].type, "started");
  const lines = events.filter((e) => e.type === "output").map((e) =>
    e.type === "output" ? `${e.stream}:${e.line}` : ""
  );
  assertEquals(lines.filter((l) => l.startsWith("stdout")), [
    "stdout:one",
    `stdout:worker=${placed.workerId}`,
  ]);
  assert(lines.includes("stderr:two"));
  const last = events.at(-1)!;
  assert(last.type === "exited" && last.exitCode === 3 && !last.cancelled, JSON.stringify(last));
  await t.worker.waitFor("finished");
});

Deno.test("a cancel reaches the worker and its stop stages come back before exited", async () => {
  await using t = await setup();
  const abort = new AbortController();
  const events: DispatchEvent[] = [];
  for await (
    const event of t.hub.dispatch(
      { work: work("s2", "trap '' INT; echo ready; sleep 60"), attempt: 1, placement: {} },
      abort.signal,
    )
  ) {
    events.push(event);
    if (event.type === "output" && event.line === "ready") abort.abort();
  }
  const stages = events.filter((e) => e.type === "cancelStage").map((e) =>
    e.type === "cancelStage" ? e.stage : ""
  );
  assert(stages.includes("confirmed"), `stages: ${stages}`);
  const last = events.at(-1)!;
  assert(last.type === "exited" && last.cancelled, JSON.stringify(last));
  await t.worker.waitFor("cancel");
});

Deno.test("a step whose labels no worker has waits with a reason, and a cancel ends it", async () => {
  await using t = await setup();
  const abort = new AbortController();
  const events: DispatchEvent[] = [];
  for await (
    const event of t.hub.dispatch(
      { work: work("s3", "true"), attempt: 1, placement: { labels: { gpu: "true" } } },
      abort.signal,
    )
  ) {
    events.push(event);
    if (event.type === "queued") abort.abort();
  }
  assertEquals(events[0], {
    type: "queued",
    reason: 'no connected worker has labels {gpu: "true"}; 1 worker connected',
  });
  const last = events.at(-1)!;
  assert(last.type === "exited" && last.cancelled);
});

Deno.test("a drained worker takes no new step", async () => {
  await using t = await setup();
  assertEquals(t.hub.drain("w1").changed, true);
  await t.worker.waitFor("drained");
  const abort = new AbortController();
  const events: DispatchEvent[] = [];
  for await (
    const event of t.hub.dispatch(
      { work: work("s4", "true"), attempt: 1, placement: {} },
      abort.signal,
    )
  ) {
    events.push(event);
    if (event.type === "queued") abort.abort();
  }
  assertEquals(events[0].type, "queued");
  assert(!events.some((e) => e.type === "placed"));
});

Deno.test("a reader that stops reading holds the step back: its output waits on the worker's side", async () => {
  await using t = await setup();
  const dir = await Deno.makeTempDir({ prefix: "swamp-backpressure-" });
  try {
    const done = `${dir}/done`;
    // 20 MB in lines of 999 characters, numbered: far more than the hub, the worker's window
    // and the pipes hold together.
    const lines = 20_000;
    const stream = t.hub.dispatch(
      { work: work("s5", `seq -f '%0999g' 1 ${lines}; touch ${done}`), attempt: 1, placement: {} },
      new AbortController().signal,
    )[Symbol.asyncIterator]();
    const output: string[] = [];
    let next = await stream.next();
    while (!next.done && next.value.type !== "output") next = await stream.next();
    // Nothing read for a while: the hub stops acknowledging, the worker stops reading the
    // step's output, and the step blocks writing it; it cannot have finished printing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const finishedEarly = await Deno.stat(done).then(() => true, () => false);
    assertEquals(finishedEarly, false, "the step printed everything while nobody read");
    let last: DispatchEvent | undefined;
    for (; !next.done; next = await stream.next()) {
      last = next.value;
      if (next.value.type === "output") output.push(next.value.line);
    }
    assertEquals(output.length, lines);
    assert(
      output.every((line, i) => line.length === 999 && Number(line) === i + 1),
      "every line once, whole, in order",
    );
    assert(last?.type === "exited" && last.exitCode === 0, JSON.stringify(last));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
