import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../../test/helpers/assert.ts";
import { storeNewRun, storeOnlyEnv, tempFileStore } from "../../test/helpers/stores.ts";
import type { RunStore } from "../ports/store.ts";
import { JobStatus, RunStatus } from "../run/status.ts";
import { runReads } from "./run_reads.ts";
import type { CallContext } from "./call_context.ts";

/**
 * A run created about an hour ago (`index` seconds after the previous one)
 * and left `pending`, its supervisor never started: any read that judges it
 * records it abandoned.
 */
async function deadPendingRun(store: RunStore, index: number): Promise<string> {
  return await storeNewRun(store, {
    workflowName: "w",
    status: RunStatus.PENDING,
    createTime: timestampFromMs(Date.now() - 3_600_000 + index * 1000),
    jobs: [create(JobSchema, { name: "main", status: JobStatus.PENDING })],
  });
}

const ctx = {
  principal: { name: "tester", kind: "os-user" },
  signal: new AbortController().signal,
} as unknown as CallContext;

Deno.test("a listing judges the unfinished runs it shows; filtered by status, every unfinished run", async () => {
  await using temp = await tempFileStore();
  const ids: string[] = [];
  for (let i = 0; i < 25; i++) ids.push(await deadPendingRun(temp.store, i));
  const reads = runReads(storeOnlyEnv(temp.store), () => Promise.resolve(temp.store));
  const statusOf = async () =>
    new Map((await temp.store.listRuns({ limit: 100 })).runs.map((r) => [r.id, r.status]));

  const page = await reads.listRuns({ limit: 20 }, ctx);
  const shown = page.runs.map((r) => r.id);
  assertEquals(shown, ids.slice(5).reverse(), "the 20 newest, newest first");
  assertEquals(page.runs.map((r) => r.status), shown.map(() => RunStatus.ABANDONED));
  // The five older runs were not on the page and are not judged yet.
  const after = await statusOf();
  assertEquals(
    ids.slice(0, 5).map((id) => after.get(id)),
    ids.slice(0, 5).map(() => RunStatus.PENDING),
  );

  // Asking for pending runs judges every unfinished run first: none is pending any more.
  const pending = await reads.listRuns(
    { statuses: [RunStatus.PENDING], limit: 20 },
    ctx,
  );
  assertEquals(pending.runs, []);
  const last = await statusOf();
  assertEquals(ids.map((id) => last.get(id)), ids.map(() => RunStatus.ABANDONED));
});
