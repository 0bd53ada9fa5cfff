// An in-process worker hub served over TLS by the real Connect server, with
// certificates made in the test, and real `swamp worker connect` processes
// attached to it: what the remote executor's tests run against.
import { openRepoStore } from "../../cli/wiring.ts";
import { startServer } from "../../plugins/rpc/connect/mod.ts";
import { WorkerService } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import {
  anonymousPrincipal,
  authenticatesItself,
  authorize,
  ErrorCode,
  hubRoster,
  localWorkerService,
  type RunStore,
  SwampError,
  systemClock,
  WorkerHub,
  type WorkerHubOptions,
} from "../../runtime/mod.ts";
import { runCli } from "./cli.ts";
import { repoWith, type StoreKind } from "./runs.ts";
import { caSignedCert, testCa } from "./tls.ts";
import { startWorker, type WorkerProcess } from "./worker.ts";

export interface TestHub {
  hub: WorkerHub;
  store: RunStore;
  url: string;
  /**
   * Connects a worker named `name` with its own cache dir, minting its token
   * the first time; connecting the same name again restarts that machine
   * (same token, same cache dir). `prefix` wraps the command (`ip netns exec NS`).
   */
  connect(name: string, args?: string[], prefix?: string[]): Promise<WorkerProcess>;
  /** Starts the worker as connect does, without waiting for it to connect (it may be refused). */
  launch(name: string, args?: string[], prefix?: string[]): Promise<WorkerProcess>;
  /** The token of the worker named `name`, minted the first time with `extra` flags (`--duration`). */
  token(name: string, extra?: string[]): Promise<string>;
  /** The hub's repository (its store holds the tokens). */
  root: string;
  /** The cache dir of the worker named `name`. */
  cacheDir(name: string): string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a hub (heartbeat 1 s unless `options` say otherwise) on a TLS
 * Connect server listening on `host` (default 127.0.0.1; its certificate
 * names that address).
 */
export async function startTestHub(
  options:
    & Partial<
      Pick<WorkerHubOptions, "heartbeatMs" | "graceMs" | "tickMs" | "sessionRenewMs" | "onEvent">
    >
    & {
      /** The repository's store, which holds the tokens and leases (default file). */
      store?: StoreKind;
    } = {},
  host = "127.0.0.1",
): Promise<TestHub> {
  const { store: storeKind = "file", ...hubOptions } = options;
  const repo = await repoWith(storeKind, {});
  const dir = await Deno.makeTempDir({ prefix: "swamp-hub-" });
  const ca = await testCa(dir);
  const cert = await caSignedCert(
    ca,
    dir,
    host === "127.0.0.1" ? {} : { ips: [host, "127.0.0.1"] },
  );
  const store = await openRepoStore(repo.root);
  const hub = new WorkerHub({
    tokens: store,
    leases: store,
    clock: systemClock,
    heartbeatMs: 1000,
    ...hubOptions,
  });
  const server = await startServer({
    host,
    port: 0,
    tls: { cert: cert.certPem, key: cert.keyPem },
    services: [{
      service: WorkerService,
      impl: localWorkerService(() => Promise.resolve(store), systemClock, {
        hub,
        roster: hubRoster(hub),
      }),
    }],
    gate: {
      principalFor: () => Promise.reject(new SwampError(ErrorCode.UNAUTHENTICATED, "no tokens")),
      authorize,
      authenticatesItself,
      anonymous: anonymousPrincipal,
    },
    readMaxBytes: 1 << 20,
  });
  const workers: WorkerProcess[] = [];
  const tokens = new Map<string, string>();
  const testHub: TestHub = {
    hub,
    store,
    url: server.url,
    cacheDir: (name) => `${dir}/cache-${name}`,
    root: repo.root,
    async token(name, extra = []) {
      let token = tokens.get(name);
      if (!token) {
        const made = await runCli([
          "worker",
          "token",
          "create",
          name,
          "-q",
          "--repo",
          repo.root,
          ...extra,
        ]);
        if (made.code !== 0) throw new Error(`token create failed: ${made.stderr}`);
        tokens.set(name, token = made.stdout.trim());
      }
      return token;
    },
    async launch(name, args = [], prefix = []) {
      const worker = startWorker(
        server.url,
        [
          "--token",
          await testHub.token(name),
          "--cache-dir",
          `${dir}/cache-${name}`,
          "--ca-cert",
          ca.certFile,
          "--name",
          name,
          ...args,
        ],
        {},
        prefix,
      );
      workers.push(worker);
      return worker;
    },
    async connect(name, args = [], prefix = []) {
      const worker = await testHub.launch(name, args, prefix);
      await worker.waitFor("connected");
      return worker;
    },
    async [Symbol.asyncDispose]() {
      for (const worker of workers) {
        // A stopped worker cannot die of SIGKILL until it is continued.
        worker.signal("SIGCONT");
        await worker[Symbol.asyncDispose]();
      }
      hub.close();
      await server.close();
      await store.close();
      await repo[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
  return testHub;
}

/**
 * One hub with one connected worker (`swamp worker connect` with `args`),
 * lent to every caller until the last one releases it, then stopped: an
 * executor contract case and its "another" executor (the reaper) share them,
 * and no case leaves a socket or timer behind.
 */
export function sharedTestHub(
  workerName: string,
  args: string[],
): () => Promise<{ hub: TestHub; release(): Promise<void> }> {
  let shared: { hub: Promise<TestHub>; users: number } | undefined;
  return async () => {
    shared ??= {
      hub: startTestHub().then(async (t) => {
        await t.connect(workerName, args);
        return t;
      }),
      users: 0,
    };
    const mine = shared;
    mine.users++;
    const hub = await mine.hub;
    return {
      hub,
      async release() {
        if (--mine.users > 0) return;
        if (shared === mine) shared = undefined;
        await hub[Symbol.asyncDispose]();
      },
    };
  };
}
