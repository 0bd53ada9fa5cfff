// Spool files (decision 0024): a local step writes its stdout and stderr
// straight into `<spoolDir>/<runId>/<step>.<attempt>.out|.err`, so what it
// wrote is on this host's disk whatever happens to its supervisor. The
// supervisor stores the lines with the offset they end at; when a run is
// found abandoned, importSpools stores the rest of each file, once, and
// removes the run's spool directory.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type LogLine, LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { Clock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import { SpoolLineSplitter } from "../exec/spool_lines.ts";

/** A step attempt's spool name (the files add `.out` and `.err`). */
export function spoolName(stepId: string, attempt: number): string {
  return `${encodeURIComponent(stepId)}.${attempt}`;
}

export function runSpoolDir(store: RunStore, runId: string): string | undefined {
  return store.spoolDir === undefined ? undefined : `${store.spoolDir}/${runId}`;
}

/** The spool file of one stream. */
export function spoolFile(name: string, stream: "stdout" | "stderr"): string {
  return `${name}.${stream === "stdout" ? "out" : "err"}`;
}

function parseFile(file: string): { stepId: string; stream: "stdout" | "stderr" } | undefined {
  const m = /^(.+)\.(\d+)\.(out|err)$/.exec(file);
  if (!m) return undefined;
  try {
    return { stepId: decodeURIComponent(m[1]), stream: m[3] === "out" ? "stdout" : "stderr" };
  } catch {
    return undefined;
  }
}

const claimFile = ".import";
const batchLines = 500;

/**
 * Stores what the run's spool files hold beyond the offsets already stored
 * (whole lines, a last partial line as a line), then removes the run's spool
 * directory. Exactly once: one importer at a time holds the directory's claim
 * file (another finds it and does nothing; a claim whose process is gone is
 * taken over), and the stored offsets make a second import after a crash
 * store nothing twice. Returns how many lines it stored.
 */
export async function importSpools(
  store: RunStore,
  clock: Clock,
  run: Run,
): Promise<number> {
  const runId = run.id;
  const dir = runSpoolDir(store, runId);
  if (dir === undefined) return 0;
  if (!(await claim(dir))) return 0;
  let stored = 0;
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && parseFile(entry.name)) files.push(entry.name);
  }
  files.sort();
  // Secrets are masked with values only the supervisor held: what it had not stored yet of
  // a run that reads the vault is not imported unmasked, only said to be missing.
  const withheld = readsSecrets(run);
  for (const file of files) {
    const { stepId, stream } = parseFile(file)!;
    const from = await storedOffset(store, runId, stepId, file);
    if (withheld) {
      stored += await withhold(store, clock, runId, `${dir}/${file}`, { stepId, stream, from });
      continue;
    }
    stored += await importFile(store, clock, runId, `${dir}/${file}`, {
      stepId,
      stream,
      file,
      from,
    });
  }
  await Deno.remove(dir, { recursive: true });
  return stored;
}

/** Whether the run's workflow reads the vault anywhere (`vault.get`). */
export function readsSecrets(run: Run): boolean {
  return JSON.stringify(run.definition ?? {}).includes("vault.get");
}

/** One system line saying how much of a spool was not imported, if anything was left. */
async function withhold(
  store: RunStore,
  clock: Clock,
  runId: string,
  path: string,
  at: { stepId: string; stream: "stdout" | "stderr"; from: number },
): Promise<number> {
  const size = (await Deno.stat(path)).size;
  if (size <= at.from) return 0;
  await store.appendLogs(runId, [create(LogLineSchema, {
    time: timestampFromDate(clock.now()),
    stepId: at.stepId,
    stream: "system",
    text: `${size - at.from} bytes of ${at.stream} the step wrote after its supervisor stopped ` +
      "were not kept: the run reads vault secrets, which only its supervisor could mask",
  })]);
  return 1;
}

/** Removes a run's spool directory, if any (prune). */
export async function removeSpools(store: RunStore, runId: string): Promise<void> {
  const dir = runSpoolDir(store, runId);
  if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
}

async function claim(dir: string): Promise<boolean> {
  const path = `${dir}/${claimFile}`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      await Deno.writeTextFile(path, String(Deno.pid), { createNew: true });
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false; // no spool, or imported already
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const holder = Number(await Deno.readTextFile(path).catch(() => ""));
    if (holder > 0 && await exists(`/proc/${holder}`)) return false;
    await Deno.remove(path).catch(() => {}); // its importer died: take over
  }
  return false;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function storedOffset(
  store: RunStore,
  runId: string,
  stepId: string,
  file: string,
): Promise<number> {
  let offset = 0n;
  let after = 0n;
  for (;;) {
    const page = await store.readLogs(runId, after, 5000, stepId);
    for (const line of page) {
      if (line.spool === file && line.spoolOffset > offset) offset = line.spoolOffset;
    }
    if (page.length < 5000) return Number(offset);
    after = page[page.length - 1].seq;
  }
}

async function importFile(
  store: RunStore,
  clock: Clock,
  runId: string,
  path: string,
  at: { stepId: string; stream: "stdout" | "stderr"; file: string; from: number },
): Promise<number> {
  const file = await Deno.open(path, { read: true });
  let count = 0;
  try {
    await file.seek(at.from, Deno.SeekMode.Start);
    const splitter = new SpoolLineSplitter(at.from);
    const buffer = new Uint8Array(64 * 1024);
    let batch: LogLine[] = [];
    const put = async (lines: { text: string; offset: number }[], last: boolean) => {
      for (const line of lines) {
        batch.push(create(LogLineSchema, {
          time: timestampFromDate(clock.now()),
          stepId: at.stepId,
          stream: at.stream,
          text: line.text,
          spool: at.file,
          spoolOffset: BigInt(line.offset),
        }));
      }
      if (batch.length >= batchLines || (last && batch.length > 0)) {
        await store.appendLogs(runId, batch);
        count += batch.length;
        batch = [];
      }
    };
    for (;;) {
      const n = await file.read(buffer);
      if (n === null || n === 0) break;
      await put(splitter.push(buffer.subarray(0, n)), false);
    }
    await put(splitter.end(), true);
  } finally {
    file.close();
  }
  return count;
}
