// A worker's token ends while the worker runs a step: revoked by an operator,
// or past its expiry. The worker is disconnected (the hub checks live tokens
// every tick), stops its step, ends with the refusal's code, and is refused if
// it comes back; the step, which wrote nothing, is handled as a lost worker's:
// sent to another worker as attempt 2. Real processes, real TLS.
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import type { StepEvent } from "../../runtime/mod.ts";
import { assert, assertEquals, eventually, groupAlive, runCli } from "../helpers/mod.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";

const fast = { heartbeatMs: 500, graceMs: 1500, tickMs: 100 };
const show = (v: unknown) => JSON.stringify(v, (_k, x) => typeof x === "bigint" ? String(x) : x);

async function tokenEndsMidStep(
  t: TestHub,
  end: () => Promise<void>,
  code: string,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-token-end-" });
  try {
    const w1 = await t.connect("w1", ["--label", "pool=a"]);
    // Its first run never gets the file; the second, on the other worker, does.
    const script = `echo ready; while [ ! -e ${dir}/go ]; do sleep 0.05; done; echo done`;
    const executor = createRemoteExecutor({ dispatcher: t.hub });
    const seen: StepEvent[] = [];
    const running = (async () => {
      for await (
        const e of executor.dispatch({
          runId: "run-token-end",
          stepId: "s1",
          command: { script },
          env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
          graceMs: 500,
          outputLimitBytes: 1 << 16,
          placement: { labels: { pool: "a" } },
        }, new AbortController().signal)
      ) seen.push(e);
    })();
    const started = await eventually("the step runs on w1", () => {
      const ready = seen.some((e) => e.type === "output" && e.line === "ready");
      const s = seen.find((e) => e.type === "started");
      return Promise.resolve(ready && s?.type === "started" ? s : undefined);
    });
    assert(started.type === "started");
    await end();
    const refused = await w1.waitFor("refused", 30_000);
    assertEquals(refused.code, code, show(refused));
    assertEquals(await w1.exited(30_000), 8);
    await eventually(
      "the step's processes stopped by its worker",
      async () => (await groupAlive(started.process.pgid)).length === 0 ? true : undefined,
    );
    await t.connect("w2", ["--label", "pool=a"]);
    await Deno.writeTextFile(`${dir}/go`, "");
    await running;
    const placed = seen.flatMap((e) => e.type === "placed" ? [[e.worker, e.attempt]] : []);
    assertEquals(placed, [["w1", 1], ["w2", 2]], show(seen));
    const last = seen.at(-1);
    assert(last?.type === "exited" && last.exitCode === 0, show(seen));
    // The same machine, started again with its token, is refused at once.
    const again = await t.launch("w1", ["--label", "pool=a"]);
    assertEquals((await again.waitFor("refused", 30_000)).code, code);
    assertEquals(await again.exited(30_000), 8);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a worker whose token is revoked mid-step is disconnected, stops its step, and the step runs on another worker", async () => {
  await using t = await startTestHub(fast);
  await tokenEndsMidStep(t, async () => {
    const revoked = await runCli(["worker", "token", "revoke", "w1", "--repo", t.root]);
    assertEquals(revoked.code, 0, revoked.stderr);
  }, "token_revoked");
});

Deno.test("a worker whose token expires mid-step is disconnected, stops its step, and the step runs on another worker", async () => {
  await using t = await startTestHub(fast);
  // Long enough to connect and start the step on a loaded machine; the test waits it out.
  const expires = Date.now() + 12_000;
  await t.token("w1", ["--duration", "12s"]);
  await tokenEndsMidStep(t, async () => {
    assert(Date.now() < expires, "the step started before the token expired");
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires - Date.now())));
  }, "token_expired");
});
