// The worker list `swamp serve` publishes in its repository
// (.swamp/serve/workers.json), so that `swamp worker list` without --server
// shows the workers too: the hub lives in the server's memory, and a local
// command reads what the running server last wrote: at once when a worker
// comes, goes or changes state, its last-seen time every 30 s at most.
// Draining needs the server itself (--server).
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Worker, WorkerSchema } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import {
  ErrorCode,
  isSameProcessAlive,
  processStartTime,
  SwampError,
  type WorkerHub,
  type WorkerRoster,
} from "../../runtime/mod.ts";

const fileOf = (root: string) => `${root}/.swamp/serve/workers.json`;

/** How stale the published last-seen times may get when nothing else changes. */
const lastSeenEveryMs = 30_000;

interface Published {
  pid: number;
  processStart: string;
  time: string;
  workers: JsonValue[];
}

/** Writes the hub's workers whenever they change (checked every `everyMs`); stop() removes the file. */
export async function publishRoster(root: string, hub: WorkerHub, everyMs = 500) {
  const file = fileOf(root);
  await Deno.mkdir(`${root}/.swamp/serve`, { recursive: true });
  const processStart = (await processStartTime(Deno.pid)) ?? "";
  let last = "";
  let lastWriteMs = 0;
  const write = async () => {
    const listed = hub.list();
    const workers = listed.map((w) => toJson(WorkerSchema, w) as JsonValue);
    // Heartbeats move every worker's last-seen time: alone, that is written at most every
    // lastSeenEveryMs (100 idle workers would otherwise rewrite the file each check).
    const text = JSON.stringify(
      listed.map((w) => toJson(WorkerSchema, { ...w, lastSeenTime: undefined })),
    );
    const now = Date.now();
    if (text === last && now - lastWriteMs < lastSeenEveryMs) return;
    last = text;
    lastWriteMs = now;
    const published: Published = {
      pid: Deno.pid,
      processStart,
      time: new Date().toISOString(),
      workers,
    };
    const temp = `${file}.${crypto.randomUUID()}`;
    await Deno.writeTextFile(temp, JSON.stringify(published), { mode: 0o600 });
    await Deno.rename(temp, file);
  };
  await write();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    write().catch(() => {}).finally(() => busy = false);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await Deno.remove(file).catch(() => {});
    },
  };
}

/** The roster a local command reads: the running server's published list, else none. */
export function fileRoster(root: () => Promise<string>): WorkerRoster {
  return {
    async list(): Promise<Worker[]> {
      let published: Published;
      try {
        published = JSON.parse(await Deno.readTextFile(fileOf(await root())));
      } catch {
        return [];
      }
      // A server that died without removing its list knows no workers any more.
      if (await isSameProcessAlive(published.pid, published.processStart) === false) return [];
      return published.workers.map((w) => fromJson(WorkerSchema, w));
    },
    drain(): Promise<{ worker: Worker; changed: boolean }> {
      return Promise.reject(
        new SwampError(ErrorCode.UNAVAILABLE, "draining a worker needs the server that holds it", {
          hint: "run it through the server: add --server URL --token NAME.SECRET",
        }),
      );
    },
  };
}
