// A placed step of an extension model type, on the worker: the method's code
// comes from the orchestrator as a bundle (cached by fingerprint, bundles.ts),
// runs in the same sandbox as on the orchestrator (plugins/extensions/deno),
// and reaches data and vault through a loopback proxy of the capability
// service that forwards each call to the orchestrator over the worker's own
// pinned TLS connection, naming the step's lease. The worker keeps the step's
// credential in memory only, for as long as the step runs.
import { CapabilityService } from "../../proto/gen/swamp/v1/capability_service_pb.ts";
import { ErrorCode, safeBundlePath, type StepWork, SwampError } from "../../runtime/mod.ts";
import { runnerArgv } from "../../plugins/extensions/deno/mod.ts";
import type { LoopbackServer } from "../../plugins/rpc/connect/mod.ts";
import { zodDir } from "../wiring.ts";
import { startCapabilityServer } from "../extension_methods.ts";
import { BundleCache } from "./bundles.ts";

export interface WorkerExtensionOptions {
  /**
   * The orchestrator instance the lease reports to, once it is connected
   * (the lease may be moving to the instance that takes its run over): its
   * calls go there.
   */
  server(leaseId: string): Promise<URL>;
  caCert?: string;
  pin?: string;
  /** The worker's cache dir: bundles are kept in its `bundles/`. */
  cacheDir: string;
  log(event: string, fields: Record<string, unknown>): void;
}

type Forward = Record<string, (request: Record<string, unknown>) => Promise<unknown>>;

export class WorkerExtensions {
  readonly #options: WorkerExtensionOptions;
  readonly #bundles: BundleCache;
  /** The lease each live credential runs under, added to every call it makes. */
  readonly #leases = new Map<string, string>();
  /** A client per orchestrator instance, by origin (a worker may move to another one). */
  readonly #clients = new Map<string, Promise<Forward>>();
  #proxy?: Promise<LoopbackServer>;

  constructor(options: WorkerExtensionOptions) {
    this.#options = options;
    this.#bundles = new BundleCache(`${options.cacheDir}/bundles`);
  }

  /**
   * The work to run for an assignment of lease `leaseId` whose work names an
   * extension: the sandboxed runner over the cached bundle. `done` forgets
   * the credential once the step has ended.
   */
  async prepare(leaseId: string, work: StepWork): Promise<{ work: StepWork; done(): void }> {
    const extension = work.extension!;
    const credential = work.env.SWAMP_CAPABILITY_TOKEN ?? "";
    if (!credential) {
      throw new Error("the extension step came without its capability credential");
    }
    if (!safeBundlePath(extension.module)) {
      throw new SwampError(
        ErrorCode.BUNDLE_MISMATCH,
        `the extension module ${JSON.stringify(extension.module)} is not inside extensions/`,
      );
    }
    this.#leases.set(credential, leaseId);
    const done = () => this.#leases.delete(credential);
    try {
      const client = await this.#client(leaseId);
      const { dir, cached } = await this.#bundles.ensure(extension.fingerprint, async () => {
        const bundle = await client.getBundle({
          credential,
          leaseId,
          fingerprint: extension.fingerprint,
        }) as { files: { path: string; content: Uint8Array }[] };
        return bundle.files.map((f) => ({ path: f.path, content: f.content }));
      });
      this.#options.log("bundle", { leaseId, fingerprint: extension.fingerprint, cached });
      const proxy = await (this.#proxy ??= this.#serve());
      const argv = runnerArgv({
        zodDir: zodDir(),
        extensionsDir: `${dir}/extensions`,
        module: `${dir}/${extension.module}`,
        capabilityHost: proxy.hostPort,
        memoryMb: extension.memoryMb || 512,
      });
      return {
        work: {
          ...work,
          command: { argv },
          env: { ...work.env, SWAMP_CAPABILITY_URL: proxy.url },
        },
        done,
      };
    } catch (error) {
      done();
      throw error;
    }
  }

  async close(): Promise<void> {
    const proxy = await this.#proxy?.catch(() => undefined);
    await proxy?.close();
  }

  /** The client of the instance the lease reports to now. */
  async #client(leaseId: string): Promise<Forward> {
    const server = await this.#options.server(leaseId);
    let client = this.#clients.get(server.origin);
    if (!client) {
      client = this.#connect(server);
      this.#clients.set(server.origin, client);
      client.catch(() => this.#clients.delete(server.origin));
    }
    return client;
  }

  async #connect(server: URL): Promise<Forward> {
    const { remoteClient, remoteTransport } = await import("../../plugins/rpc/connect/mod.ts");
    const transport = await remoteTransport(server, {
      caCert: this.#options.caCert,
      pin: this.#options.pin,
    });
    return remoteClient(CapabilityService, transport) as unknown as Forward;
  }

  /**
   * The loopback service the method calls: each call forwarded with its lease
   * to the instance that lease reports to when the call is made.
   */
  async #serve(): Promise<LoopbackServer> {
    const impl: Forward = {};
    for (const method of CapabilityService.methods) {
      impl[method.localName] = async (request) => {
        const leaseId = this.#leases.get(String(request.credential ?? "")) ?? "";
        return (await this.#client(leaseId))[method.localName]({ ...request, leaseId });
      };
    }
    return await startCapabilityServer(impl);
  }
}
