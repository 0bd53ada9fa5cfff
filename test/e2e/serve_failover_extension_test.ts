// An adopted extension step keeps its capability grant (issue 16, decision
// 0029), with real processes on a real PostgreSQL: two `swamp serve`
// instances on one store, a worker given both URLs (so it sits on the
// first), and a run whose extension step is placed on it. The method waits
// for a file (in its bundle's extensions/ dir, the only place its sandbox
// may read) while the owner instance is killed with SIGKILL; once the second
// instance has taken the run over, the test creates the file, the method
// writes a data item through the adopting instance with the credential the
// dead one issued, and the run succeeds.
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { eventually } from "../helpers/runs.ts";
import { haRepo } from "../helpers/ha.ts";
import { loadFoldedRun } from "../../runtime/run/fold.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";

const slow = `import { z } from "npm:zod@4";
export const model = {
  type: "@acme/slow",
  version: "2026.12.05.1",
  globalArguments: z.object({}),
  resources: { marker: { description: "the marker", schema: z.object({ at: z.string() }) } },
  methods: {
    create: {
      description: "waits for extensions/go, then writes",
      arguments: z.object({}),
      execute: async (_args, context) => {
        const go = new URL("../go", import.meta.url);
        context.logger.info("waiting for go");
        for (;;) {
          try {
            await Deno.stat(go);
            break;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        const written = await context.writeResource("marker", "main", { at: "after failover" });
        return { wrote: written.name, version: written.version };
      },
    },
  },
};
`;

const definition = `id: 7c2e2d4f-3333-4d7e-8f60-2b3c4d5e6f70
name: slowpoke
version: 1
methods:
  create:
    arguments: {}
`;

const workflow = `id: ${crypto.randomUUID()}
name: adopt
jobs:
  - name: main
    steps:
      - name: create
        labels: {pool: "ha"}
        task: {type: model_method, modelIdOrName: slowpoke, methodName: create}
`;

async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

await testNeeding(
  "postgres",
  "serve HA failover: an adopted extension step writes through the adopting instance",
  async () => {
    await using ha = await haRepo("swamp-pg-failover-ext-", {
      "extensions/models/slow.ts": slow,
      "models/@acme/slow/slowpoke.yaml": definition,
      "workflows/workflow-adopt.yaml": workflow,
    });
    const owner = await ha.serve(["--worker-grace", "20s"]);
    const survivor = await ha.serve(["--worker-grace", "20s"]);
    await ha.worker(`${owner.url},${survivor.url}`, "wx", ["pool=ha"]);
    const cacheDir = `${ha.work}/wx`;
    const started = await owner.cli(["workflow", "run", "adopt", "--detach", "--json"], ha.token);
    assertEquals(started.code, 0, `${started.stdout}\n${started.stderr}`);
    const runId = (started.json as { run: { id: string } }).run.id;

    const store = await ha.store();
    const load = () => loadFoldedRun(store, runId);
    const placed = await eventually("the step to run on the worker", async () => {
      const step = (await load())?.steps.find((s) => s.name === "create");
      return step?.status === StepStatus.RUNNING && step.placement?.leaseId ? step : undefined;
    }, 120_000);
    // The record keeps the credential's hash, never the credential.
    assertEquals(/^[0-9a-f]{64}$/.test(placed.placement!.credentialSha256), true);
    const module = await eventually("the bundle on the worker", async () => {
      try {
        for await (const path of files(cacheDir)) {
          if (path.endsWith("/extensions/models/slow.ts")) return path;
        }
      } catch {
        // Not made yet.
      }
      return undefined;
    }, 60_000);
    // Its start-up calls are made: it waits for the file now.
    await eventually("the method to wait", async () => {
      const logs = await store.readLogs(runId, 0n, 500);
      return logs.some((l) => l.text.includes("waiting for go")) ? true : undefined;
    }, 60_000);
    await owner.kill();
    await eventually("the run taken over", async () => {
      const events = await store.readEvents(runId, 0n);
      return events.some((e) =>
          e.payload.case === "ownerChanged" &&
          e.reason.startsWith("taken over from instance")
        )
        ? true
        : undefined;
    }, 120_000);
    await Deno.writeTextFile(module.replace(/models\/slow\.ts$/, "go"), "go\n");
    const ended = await eventually("the run to end on the survivor", async () => {
      const run = await load();
      return run && run.status !== RunStatus.RUNNING ? run : undefined;
    }, 120_000);
    const logs = (await store.readLogs(runId, 0n, 500)).map((l) => l.text);
    const notes = ended.steps.map((s) => `${s.name}: ${StepStatus[s.status]} ${s.reason}`)
      .concat(logs);
    assertEquals(RunStatus[ended.status], "SUCCEEDED", notes.join("\n"));
    const item = await store.getData("slowpoke", "main");
    assert(item, "the method's write reached the store");
    assertEquals(item.attributes, { at: "after failover" });
    assertEquals(item.runId, runId);
    const events = await store.readEvents(runId, 0n);
    assert(
      events.some((e) => e.reason.includes(": adopting lease ")),
      "the step was adopted, not run again",
    );
  },
);
