// A follower of a run owned by `swamp serve` gets every event to the run's end,
// even when the run finishes before the stream starts and the server thread's
// change feed has not yet heard of its last writes (runs execute on a thread of
// their own). Many quick runs at once make that window likely.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RunStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import { RunService } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import type { RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import {
  assertEquals,
  mintToken,
  repoWith,
  shellStep,
  startServe,
  storeKinds,
  workflowFile,
} from "../helpers/mod.ts";

const workers = 16;
const runsPerWorker = 8;

for (const store of storeKinds) {
  Deno.test(`[${store}] serve: ${workers * runsPerWorker} quick runs followed at once each stream every event to the end`, async () => {
    const files: Record<string, string> = {};
    // One workflow (and model) per worker, so the runs do not queue on one model's lock.
    for (let w = 0; w < workers; w++) {
      files[`workflows/workflow-quick-${w}.yaml`] = workflowFile(
        `quick-${w}`,
        shellStep("s", "true", "", `m${w}`),
      );
    }
    await using repo = await repoWith(store, files);
    const token = await mintToken(repo.root, "follower", "operator");
    await using server = await startServe(repo.root);
    const runs = createClient(
      RunService,
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "2",
        interceptors: [(next) => (request) => {
          request.header.set("authorization", `Bearer ${token}`);
          return next(request);
        }],
      }),
    );
    const problems: string[] = [];
    await Promise.all(Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < runsPerWorker; i++) {
        const { run } = await runs.submitRun({ workflow: `quick-${w}`, detach: true });
        const events: RunEvent[] = [];
        for await (const m of runs.watchRunEvents({ runId: run!.id, follow: true })) {
          events.push(m.event!);
        }
        const { run: final } = await runs.getRun({ runId: run!.id });
        const last = events.at(-1)?.payload;
        const seqs = events.map((e) => Number(e.seq));
        if (
          final?.status !== RunStatus.SUCCEEDED ||
          last?.case !== "runStatusChanged" || last.value.to !== RunStatus.SUCCEEDED ||
          seqs.join() !== seqs.map((_, k) => k + 1).join() ||
          BigInt(seqs.length) !== final.revision
        ) {
          problems.push(
            `${run!.id}: ${seqs.length} events of ${final?.revision}, last ${last?.case}`,
          );
        }
      }
    }));
    assertEquals(problems, []);
  });
}
