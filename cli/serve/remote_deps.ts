// The run thread's engine deps gain the remote executor when the server has a
// worker hub: placed steps dispatch through the bridge to the main thread's
// hub, and get the environment `serve --pass-env` names.
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import type { EngineDeps } from "../engine_deps.ts";
import { hubBridgeClient, type HubLink } from "./hub_bridge.ts";

export function withRemoteExecutor(deps: EngineDeps, link: HubLink): EngineDeps {
  const remote = createRemoteExecutor({ dispatcher: hubBridgeClient(link.port) });
  return {
    ...deps,
    executors: new Map([...(deps.executors ?? []), [remote.name, remote]]),
    remoteEnv: { ...link.passEnv },
  };
}
