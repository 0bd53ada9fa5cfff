// Run changes from every process, by LISTEN/NOTIFY (decision 0028). Each
// write that changes a run (createRun, append, appendLogs) calls pg_notify in
// its own transaction, so a notification is delivered exactly when the change
// is committed, and never for a write rolled back. One listening connection
// per store (per process), opened on the first subscribe; when it is lost it
// reconnects and tells every subscriber to read again, since notifications
// sent meanwhile are gone.
import pg from "pg";
import type { OnStoreChange } from "../../../runtime/mod.ts";
import type { Tx } from "./db.ts";

/** The one channel every swamp process on a database shares. */
export const changeChannel = "swamp_run_changes";

/**
 * What a notification says: which run changed, whether its events or its log,
 * and for events the run's last event seq after the change (`events:RUN:SEQ`).
 */
export const changePayload = (runId: string, kind: "events" | "logs", seq?: bigint) =>
  `${kind}:${runId}${seq === undefined ? "" : `:${seq}`}`;

/** Announces, in `tx`, that `runId`'s events or log changed (sent at commit). */
export async function notifyChange(
  tx: Tx,
  runId: string,
  kind: "events" | "logs",
  seq?: bigint,
): Promise<void> {
  await tx.query("SELECT pg_notify($1, $2)", [changeChannel, changePayload(runId, kind, seq)]);
}

/** How long to wait before connecting again, doubling up to the last. */
const retryMs = [50, 100, 200, 400, 800, 1600];

export class ChangeListener {
  private readonly subscribers = new Map<string, Set<OnStoreChange>>();
  private client?: pg.Client;
  private connecting?: Promise<void>;
  private closed = false;
  private retry?: ReturnType<typeof setTimeout>;

  constructor(private readonly config: () => pg.ClientConfig) {}

  /** `runId` undefined: every run. Resolves once LISTEN is in effect. */
  async subscribe(runId: string | undefined, onChange: OnStoreChange): Promise<() => void> {
    const key = runId ?? "*";
    let set = this.subscribers.get(key);
    if (!set) this.subscribers.set(key, set = new Set());
    set.add(onChange);
    const stop = () => {
      const now = this.subscribers.get(key);
      now?.delete(onChange);
      if (now?.size === 0) this.subscribers.delete(key);
    };
    try {
      await this.connect();
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  /** Ends the listening connection for good. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    // Held again while it closes: with its socket unref'd, a process awaiting this close had
    // nothing left to wait on and ended with the close unresolved (exit 1).
    socketOf(client)?.ref?.();
    await client.end().catch(() => {});
  }

  private connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    return this.connecting ??= this.open().finally(() => this.connecting = undefined);
  }

  private async open(): Promise<void> {
    const client = new pg.Client({ ...this.config(), application_name: "swamp-listen" });
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (message) => this.deliver(message.payload ?? ""));
    try {
      await client.connect();
      await client.query(`LISTEN ${changeChannel}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    // The listening connection alone must not keep a process alive (a CLI that forgot to close).
    unrefSocket(client);
  }

  private deliver(payload: string): void {
    const colon = payload.indexOf(":");
    const kind = payload.slice(0, colon);
    if (kind !== "events" && kind !== "logs") return;
    // A payload without a seq (from an older swamp) is a change of unknown extent.
    const [runId, seq] = payload.slice(colon + 1).split(":");
    const change: Parameters<OnStoreChange>[0] = {
      runId,
      kind,
      ...(/^\d+$/.test(seq ?? "") ? { seq: BigInt(seq) } : {}),
    };
    for (const key of [runId, "*"]) {
      for (const onChange of this.subscribers.get(key) ?? []) onChange(change);
    }
  }

  /** The connection broke: connect again (backing off), then have everyone read again. */
  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    void client.end().catch(() => {});
    this.reconnect(0);
  }

  private reconnect(attempt: number): void {
    if (this.closed || this.subscribers.size === 0) return;
    const timer = this.retry = setTimeout(async () => {
      this.retry = undefined;
      try {
        await this.connect();
      } catch {
        this.reconnect(Math.min(attempt + 1, retryMs.length - 1));
        return;
      }
      for (const set of [...this.subscribers.values()]) {
        for (const onChange of [...set]) onChange(undefined);
      }
    }, retryMs[attempt]);
    Deno.unrefTimer(timer as unknown as number);
  }
}

function socketOf(client: pg.Client): { ref?: () => void; unref?: () => void } | undefined {
  return (client as unknown as {
    connection?: { stream?: { ref?: () => void; unref?: () => void } };
  }).connection?.stream;
}

function unrefSocket(client: pg.Client): void {
  socketOf(client)?.unref?.();
}
