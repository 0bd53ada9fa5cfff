export { bindService, type ServiceClient } from "./client.ts";
export {
  ActorKind,
  type CallContext,
  type Principal,
  Role,
  type ServiceImpl,
  systemPrincipal,
} from "./call_context.ts";
export {
  anonymousPrincipal,
  authenticatesItself,
  authorize,
  parseRole,
  requiredRoles,
  roleName,
  selfAuthenticated,
} from "./roles.ts";
export { defaultTokenSeconds, localAuthService, tokenState } from "./auth_service.ts";
export { defaultWorkerTokenSeconds, workerTokenState } from "./worker_tokens.ts";
export { localWorkerService } from "./worker_service.ts";
export { redeemWorkerToken } from "./worker_enroll.ts";
export { checkLabels, parseLabels } from "./worker_labels.ts";
export { authenticate } from "./authenticate.ts";
export { type RepoLocator, repoLocator } from "./locator.ts";
export { localRepoService } from "./repo_service.ts";
export { localRunService } from "./run_service.ts";
export { ChangeFeed, observedStore, observeWrites, type OnStored } from "./change_feed.ts";
export { connectFeed, followPollMs, storeFeed } from "./store_feed.ts";
export { type GateTimer, startGateTimer } from "./gate_timer.ts";
export {
  defaultWorkerExecutor,
  type DispatchEvent,
  type DispatchRequest,
  extensionProtocol,
  fits,
  fromRemoteWork,
  type HubEvent,
  hubRoster,
  type KillOutcome,
  multiInstanceProtocol,
  negotiateProtocol,
  type Placement,
  type ProtocolRange,
  supportedProtocol,
  toRemoteWork,
  WorkerHub,
  type WorkerHubOptions,
  type WorkerRoster,
} from "./workers/mod.ts";
