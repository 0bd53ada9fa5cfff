// Wires the extension method runner for a process that runs engines (the run
// supervisor, swamp serve): a capability service on 127.0.0.1, started on an
// ephemeral port when the first extension step runs, and the sandboxed
// runner as each such step's command.
import {
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
import { anonymousPrincipal } from "../runtime/mod.ts";

/** Largest capability request: a data item's attributes are at most 16 MiB of JSON. */
const readMaxBytes = 20 * 1024 * 1024;

export function localExtensionMethods(options: {
  data: DataStore;
  /** Each call takes a step lease here (worker `local:HOST`), released when it ends. */
  leases?: LeaseStore;
  secrets?: SecretSource;
  evaluator?: ExpressionEvaluator;
  zodDir: string;
}): ExtensionMethodRunner {
  const grants = new CapabilityGrants();
  let server: Promise<{ url: string; hostPort: string }> | undefined;
  const start = async () => {
    const { startLoopbackServer } = await import("../plugins/rpc/connect/mod.ts");
    return await startLoopbackServer({
      services: [{
        service: CapabilityService,
        impl: capabilityService({ grants, ...options }),
      }],
      readMaxBytes,
      // Every method checks the credential in its request itself.
      gate: {
        principalFor: () => Promise.resolve(anonymousPrincipal),
        authorize: () => {},
        authenticatesItself: () => true,
        anonymous: anonymousPrincipal,
      },
    });
  };
  return {
    async prepare(call: ExtensionCall): Promise<PreparedMethod> {
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
}
