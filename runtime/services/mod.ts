export { bindService, type ServiceClient } from "./client.ts";
export {
  ActorKind,
  type CallContext,
  type Principal,
  Role,
  type ServiceImpl,
  systemPrincipal,
} from "./call_context.ts";
export { authorize, parseRole, requiredRoles, roleName } from "./roles.ts";
export { defaultTokenSeconds, localAuthService, tokenState } from "./auth_service.ts";
export { authenticate } from "./authenticate.ts";
export { type RepoLocator, repoLocator } from "./locator.ts";
export { localRepoService } from "./repo_service.ts";
export { localRunService } from "./run_service.ts";
export { ChangeFeed, observedStore, observeWrites, type OnStored } from "./change_feed.ts";
export { type GateTimer, startGateTimer } from "./gate_timer.ts";
