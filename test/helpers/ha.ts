// Several `swamp serve` instances on one PostgreSQL store, for the HA tests
// (decision 0027): a cluster of the test's own, a repository on a database
// of it, an operator token, and what the test starts on it (instances,
// workers, a store to read the runs back), all ended on dispose.
import { type PostgresCluster, startPostgres } from "./postgres.ts";
import { initRepo } from "./runs.ts";
import { mintToken, type ServeProcess, startServe } from "./serve.ts";
import { mintWorkerToken, startWorker, type WorkerProcess } from "./worker.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import type { RunStore } from "../../runtime/mod.ts";

export interface HaRepo {
  cluster: PostgresCluster;
  dsn: string;
  /** A scratch directory (the repository is its `repo/`). */
  work: string;
  root: string;
  /** An operator API token (`NAME.SECRET`). */
  token: string;
  /** Starts one more `swamp serve` on the repository. */
  serve(flags?: string[]): Promise<ServeProcess>;
  /**
   * Mints an enrollment token `name` with `labels`, starts a worker on
   * `urls` (comma-separated) with a cache dir of its own, and waits until it
   * is connected to each of them.
   */
  worker(urls: string, name: string, labels: string[], args?: string[]): Promise<WorkerProcess>;
  /** A store on the repository's database, to read what the instances wrote. */
  store(): Promise<RunStore>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** `files`: the repository's files, or a function of the scratch directory that makes them. */
export async function haRepo(
  prefix: string,
  files: Record<string, string> | ((work: string) => Record<string, string>),
  options: { durable?: boolean } = {},
): Promise<HaRepo> {
  const cluster = await startPostgres(options);
  const work = await Deno.makeTempDir({ prefix });
  const servers: ServeProcess[] = [];
  const workers: WorkerProcess[] = [];
  let opened: RunStore | undefined;
  const dispose = async () => {
    for (const worker of workers) await worker[Symbol.asyncDispose]().catch(() => {});
    for (const server of servers) await server.kill().catch(() => {});
    await opened?.close().catch(() => {});
    await cluster.stop();
    await Deno.remove(work, { recursive: true });
  };
  try {
    const dsn = await cluster.createDatabase();
    const root = `${work}/repo`;
    await initRepo(root, "postgres", typeof files === "function" ? files(work) : files, dsn);
    const token = await mintToken(root, "ops", "operator");
    return {
      cluster,
      dsn,
      work,
      root,
      token,
      async serve(flags = []) {
        const server = await startServe(root, flags);
        servers.push(server);
        return server;
      },
      async worker(urls, name, labels, args = []) {
        const credential = await mintWorkerToken(root, name, labels);
        const worker = startWorker(urls, [
          "--token",
          credential,
          "--cache-dir",
          `${work}/${name}`,
          ...args,
        ]);
        workers.push(worker);
        // It connects to every instance it is given (decision 0031): wait for each.
        let after = 0;
        for (const _ of urls.split(",")) {
          after = worker.events.indexOf(await worker.waitFor("connected", 30_000, after)) + 1;
        }
        return worker;
      },
      async store() {
        return opened ??= await openPostgresStore(dsn);
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
