// Queries and transactions on the pool, with every failure to reach the
// database reported as store_unreachable (connection.ts). Parameterised
// queries only: no value is ever spliced into SQL text.
import type pg from "pg";
import { storeError, type Target } from "./connection.ts";

export type Row = Record<string, unknown>;

/** One connection for the length of a transaction. */
export interface Tx {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>>;
}

/** SQLSTATEs after which the whole transaction may simply be run again. */
const retryable = new Set(["40001", "40P01"]);

export class Db {
  constructor(readonly pool: pg.Pool, readonly target: Target) {}

  /**
   * One statement on a connection of its own, answered within the statement
   * limit: a connection that died under it without the driver noticing (seen
   * when the server restarts) is discarded, and the statement fails as
   * store_unreachable instead of waiting forever (decision 0027).
   */
  async query(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw storeError(error, this.target);
    }
    let broken = false;
    const onError = () => broken = true;
    client.on("error", onError);
    try {
      return await answered(client.query(text, values), () => broken = true);
    } catch (error) {
      // A statement that failed may have lost its connection (a terminated backend reports the
      // termination first and closes the socket after): never hand such a one out again.
      broken = true;
      throw storeError(error, this.target);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  async rows(text: string, values?: unknown[]): Promise<Row[]> {
    return (await this.query(text, values)).rows;
  }

  /**
   * Runs `body` in one transaction (READ COMMITTED unless `isolation` says
   * otherwise), committed when it returns and rolled back when it throws. A
   * serialization failure or deadlock runs it again, a few times.
   */
  async tx<T>(body: (tx: Tx) => Promise<T>, isolation = ""): Promise<T> {
    for (let attempt = 1;; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw storeError(error, this.target);
      }
      let broken = false;
      // A connection that dies while checked out (the server restarted, or the backend was
      // terminated) emits an error on the client: the query in flight rejects with it, and
      // without a listener it would also end the process (decision 0027).
      const onError = () => broken = true;
      client.on("error", onError);
      try {
        const timed: Tx = {
          query: (text, values) => answered(client.query(text, values), () => broken = true),
        };
        await timed.query(isolation ? `BEGIN ISOLATION LEVEL ${isolation}` : "BEGIN");
        const result = await body(timed);
        await timed.query("COMMIT");
        return result;
      } catch (error) {
        try {
          if (broken) throw new Error("the connection is gone");
          await answered(client.query("ROLLBACK"), () => broken = true);
        } catch {
          broken = true; // the connection is gone: do not hand it out again
        }
        const code = (error as { code?: string }).code ?? "";
        if (retryable.has(code) && attempt < 5) continue;
        throw storeError(error, this.target);
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** The longest one statement may take, lock waits included: every statement swamp sends is short. */
export const statementLimitMs = 15_000;

/** `pending`, or a failure (ETIMEDOUT, so store_unreachable) once the statement limit passes. */
function answered<T>(pending: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error("no answer to a statement in time"), { code: "ETIMEDOUT" }));
    }, statementLimitMs);
  });
  return Promise.race([pending, limit]).finally(() => clearTimeout(timer));
}

/** An int8 as pg returns it (decimal text) as a bigint. */
export const big = (value: unknown): bigint => BigInt(value as string | number);

/** An int8 that fits a JavaScript number (times in ms, counts). */
export const num = (value: unknown): number => Number(value);

/** A bytea as pg returns it (a Buffer) as a Uint8Array for protobuf. */
export const bytes = (value: unknown): Uint8Array => value as Uint8Array;
