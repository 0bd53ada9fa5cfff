// The slice of `node:sqlite` (built into Deno) this store uses. The checked-in
// @types/node predates the module, so without this `deno check` cannot see it.
declare module "node:sqlite" {
  export type SQLValue = null | number | bigint | string | Uint8Array;
  export type Row = Record<string, SQLValue>;

  export interface RunResult {
    changes: number | bigint;
    lastInsertRowid: number | bigint;
  }

  export class StatementSync {
    all(...params: SQLValue[]): Row[];
    get(...params: SQLValue[]): Row | undefined;
    run(...params: SQLValue[]): RunResult;
  }

  export class DatabaseSync {
    constructor(path: string, options?: { open?: boolean; readOnly?: boolean });
    exec(sql: string): void;
    prepare(sql: string): StatementSync;
    close(): void;
  }
}
