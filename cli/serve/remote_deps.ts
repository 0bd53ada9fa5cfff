// The run thread's engine deps gain the remote executor when the server has a
// worker hub: placed steps dispatch through the bridge to the main thread's
// hub, and get the environment `serve --pass-env` names.
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import type { EngineDeps } from "../engine_deps.ts";
import { ExecutorRegistry } from "../../runtime/mod.ts";
import { hubBridgeClient, type HubLink } from "./hub_bridge.ts";
import { serveCapabilityBridge } from "./capability_bridge.ts";

export function withRemoteExecutor(deps: EngineDeps, link: HubLink): EngineDeps {
  // Workers' calls for placed extension steps reach the grants this thread's engines issue.
  const methods = deps.extensionMethods as { service?: object } | undefined;
  if (link.capabilities && methods?.service) {
    serveCapabilityBridge(link.capabilities, methods.service);
  }
  const remote = createRemoteExecutor({ dispatcher: hubBridgeClient(link.port) });
  return {
    ...deps,
    executors:
      (deps.executors instanceof ExecutorRegistry ? deps.executors.copy() : new ExecutorRegistry())
        .register(remote),
    remoteEnv: { ...link.passEnv },
  };
}
