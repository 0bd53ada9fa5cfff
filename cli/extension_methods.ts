// Wires the extension method runner for a process that runs engines (the run
// supervisor, swamp serve): a capability service on 127.0.0.1, started on an
// ephemeral port when the first extension step runs, and the sandboxed
// runner as each such step's command.
import {
  BundleMemo,
  CapabilityGrants,
  capabilityService,
  type DataStore,
  type ExpressionEvaluator,
  type ExtensionCall,
  type ExtensionMethodRunner,
  type LeaseStore,
  type PreparedMethod,
  type SecretSource,
} from "../runtime/mod.ts";
import { runnerArgv } from "../plugins/extensions/deno/mod.ts";
import { CapabilityService } from "../proto/gen/swamp/v1/capability_service_pb.ts";
import type { LoopbackServer } from "../plugins/rpc/connect/mod.ts";
import { anonymousPrincipal } from "../runtime/mod.ts";

/** Largest capability request: a data item's attributes are at most 16 MiB of JSON. */
const readMaxBytes = 20 * 1024 * 1024;

/**
 * The capability service on 127.0.0.1 (a port the system picks), over
 * HTTP/1.1 for the sandboxed method's fetch: the engine's own (`impl` checks
 * each request's credential) or a worker's proxy (which forwards each call to
 * the orchestrator, which checks it). No API token either way.
 */
export async function startCapabilityServer(impl: object): Promise<LoopbackServer> {
  const { startLoopbackServer } = await import("../plugins/rpc/connect/mod.ts");
  return await startLoopbackServer({
    services: [{ service: CapabilityService, impl: impl as never }],
    readMaxBytes,
    gate: {
      principalFor: () => Promise.resolve(anonymousPrincipal),
      authorize: () => {},
      authenticatesItself: () => true,
      anonymous: anonymousPrincipal,
    },
  });
}

/** The runner of a process that runs engines, and its capability service for a public port. */
export interface EngineExtensionMethods extends ExtensionMethodRunner {
  /**
   * The capability service over this process's grants: `swamp serve` serves
   * it on its public port too, where workers' calls for placed steps arrive.
   */
  readonly service: ReturnType<typeof capabilityService>;
}

export function localExtensionMethods(options: {
  data: DataStore;
  /** Each call takes a step lease here (worker `local:HOST`), released when it ends. */
  leases?: LeaseStore;
  secrets?: SecretSource;
  evaluator?: ExpressionEvaluator;
  zodDir: string;
}): EngineExtensionMethods {
  const grants = new CapabilityGrants();
  const service = capabilityService({ grants, ...options });
  const bundles = new BundleMemo();
  let server: Promise<{ url: string; hostPort: string }> | undefined;
  const start = () => startCapabilityServer(service);
  return {
    service,
    adopt: (credential, adoptedHash) => grants.adopt(credential, adoptedHash),
    async prepare(call: ExtensionCall): Promise<PreparedMethod> {
      if (call.remote) return await prepareRemote(call);
      const { url, hostPort } = await (server ??= start());
      const now = new Date();
      const lease = await options.leases?.acquireLease({
        runId: call.runId,
        stepId: call.stepId,
        attempt: call.attempt,
        workerId: `local:${Deno.hostname()}`,
        now,
        // Released when the step's process has exited; the step's own timeout bounds it.
        expireTime: new Date(now.getTime() + 7 * 24 * 3600_000),
      });
      const { credential, grant } = await grants.issue(call, lease?.id);
      const memoryMb = call.memoryMb ?? 512;
      return {
        argv: runnerArgv({
          zodDir: options.zodDir,
          extensionsDir: `${call.repoRoot}/extensions`,
          module: `${call.repoRoot}/${call.module}`,
          capabilityHost: hostPort,
          memoryMb,
        }),
        env: {
          SWAMP_CAPABILITY_URL: url,
          SWAMP_CAPABILITY_TOKEN: credential,
          SWAMP_RUN_ID: call.runId,
          SWAMP_STEP_ID: call.stepId,
        },
        async end() {
          await grants.revoke(credential);
          if (lease) await options.leases?.releaseLease(lease.id).catch(() => false);
          return {
            finished: grant.finished,
            result: grant.result,
            error: grant.error,
            writes: grant.writes,
          };
        },
      };
    },
  };

  /**
   * A placed step: its worker takes the lease (so none is taken here), runs the
   * method from the bundle of the repository's extensions/ it fetches by
   * fingerprint, and reaches this process's capability service through its own
   * proxy, naming its lease with each call.
   */
  async function prepareRemote(call: ExtensionCall): Promise<PreparedMethod> {
    const bundle = await bundles.get(call.repoRoot);
    const { credential, grant } = await grants.issue(call, undefined, { bundle });
    const memoryMb = call.memoryMb ?? 512;
    return {
      // What a worker of protocol 2 replaces with its own sandbox's command; anything else
      // that ran this would fail to find the program, never run something else.
      argv: ["swamp-extension-method", call.module],
      env: {
        SWAMP_CAPABILITY_TOKEN: credential,
        SWAMP_RUN_ID: call.runId,
        SWAMP_STEP_ID: call.stepId,
      },
      extension: { fingerprint: bundle.fingerprint, module: call.module, memoryMb },
      async end() {
        await grants.revoke(credential);
        return {
          finished: grant.finished,
          result: grant.result,
          error: grant.error,
          writes: grant.writes,
        };
      },
    };
  }
}
