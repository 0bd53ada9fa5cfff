// Remote workers on the orchestrator's side: the hub (sessions, placement,
// leases), the control channel's protocol range, and the service methods.
export { WorkerHub, type WorkerHubOptions } from "./hub.ts";
export type { KillOutcome } from "./leasing.ts";
export { choose, defaultWorkerExecutor, fits, type Placement, queueReason } from "./placement.ts";
export {
  extensionProtocol,
  multiInstanceProtocol,
  negotiateProtocol,
  type ProtocolRange,
  supportedProtocol,
} from "./protocol.ts";
export { fromRemoteWork, toRemoteWork } from "./remote_work.ts";
export { hubRoster, workerMethods, type WorkerRoster } from "./service.ts";
export type { DispatchEvent, DispatchRequest, HubEvent, WorkerStepEvent } from "./types.ts";
