// A separate process pruning a store, for the kill -9 test (store_prune_kill_test.ts).
//
//   deno run -A store_pruner.ts '<json {opener, endedBeforeMs}>'
//
// Lists the store's finished runs and prunes every one that qualifies,
// printing the running count after each, until it is killed or done.
import { finishedStatuses, qualifiesForPrune, type RunStore } from "../../runtime/mod.ts";
import type { Opener } from "./store_writer.ts";

const job = JSON.parse(Deno.args[0]) as { opener: Opener; endedBeforeMs: number };
const module = await import(job.opener.module);
const store: RunStore = await module[job.opener.exportName](...job.opener.args);
const rule = { endedBeforeMs: job.endedBeforeMs, statuses: finishedStatuses };
const ids: string[] = [];
let cursor: string | undefined;
do {
  const page = await store.listRuns({ statuses: [...finishedStatuses], limit: 1000, cursor });
  ids.push(...page.runs.filter((run) => qualifiesForPrune(run, rule)).map((run) => run.id));
  cursor = page.nextCursor || undefined;
} while (cursor);
let pruned = 0;
const encoder = new TextEncoder();
for (const id of ids) {
  if (await store.pruneRun(id, rule)) pruned++;
  Deno.stdout.writeSync(encoder.encode(`${pruned}\n`));
}
await store.close();
