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

  async query(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.pool.query(text, values);
    } catch (error) {
      throw storeError(error, this.target);
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
        await client.query(isolation ? `BEGIN ISOLATION LEVEL ${isolation}` : "BEGIN");
        const result = await body(client as Tx);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
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

/** An int8 as pg returns it (decimal text) as a bigint. */
export const big = (value: unknown): bigint => BigInt(value as string | number);

/** An int8 that fits a JavaScript number (times in ms, counts). */
export const num = (value: unknown): number => Number(value);

/** A bytea as pg returns it (a Buffer) as a Uint8Array for protobuf. */
export const bytes = (value: unknown): Uint8Array => value as Uint8Array;
