// Loads many new runs at once, writing exactly the files createRun and append
// would write, without their per-run locks, flushes and renames. For filling
// a store nobody else is using (benchmarks, imports); the ids must be new.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import type { Run, RunSummary } from "../../../proto/gen/swamp/v1/run_pb.ts";
import { encodeEvent, encodeRun, encodeSummaryFile, isActive } from "./codec.ts";
import { writeAt } from "./fsio.ts";
import { encodeRecord, recordBytes, workflowHash } from "./index_file.ts";
import { isRunId, Layout } from "./paths.ts";

export interface BulkRun {
  /** The run's whole log, seq 1 (its runCreated) first. */
  events: RunEvent[];
  summary: RunSummary;
  snapshot: Run;
}

export async function bulkLoadRuns(stateDir: string, runs: BulkRun[]): Promise<void> {
  const layout = new Layout(stateDir);
  for (const dir of [layout.runs, layout.active, layout.lockTemp]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  const index = Deno.openSync(layout.index, { read: true, write: true, create: true });
  try {
    index.lockSync(true);
    const first = Math.floor(index.statSync().size / recordBytes);
    const records = new Uint8Array(runs.length * recordBytes);
    for (const [i, run] of runs.entries()) {
      const id = run.summary.id;
      if (!isRunId(id)) throw new Error(`run id "${id}" is not a UUID`);
      Deno.mkdirSync(layout.run(id), { recursive: true });
      Deno.writeTextFileSync(layout.events(id), run.events.map(encodeEvent).join("\n") + "\n");
      Deno.writeTextFileSync(layout.snapshot(id), encodeRun(run.snapshot) + "\n");
      Deno.writeTextFileSync(layout.summary(id), encodeSummaryFile(first + i, run.summary));
      if (isActive(run.summary.status)) Deno.writeTextFileSync(layout.activeMarker(id), "");
      const createMs = run.summary.createTime ? timestampMs(run.summary.createTime) : Date.now();
      const entry = {
        status: run.summary.status,
        createMs,
        workflowHash: workflowHash(run.summary.workflowName),
        runId: id,
      };
      records.set(encodeRecord(entry), i * recordBytes);
    }
    writeAt(index, first * recordBytes, records);
  } finally {
    index.close();
  }
}
