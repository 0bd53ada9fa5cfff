import { ErrorCode, SwampError } from "../errors/mod.ts";
import { ActorKind, type Principal, Role } from "./call_context.ts";

/**
 * The least role each RPC needs, by `Service/Method`. Roles are ordered
 * (viewer < operator < approver < admin), so a role allows everything the
 * ones before it allow. A method missing here is refused for everyone: a new
 * RPC is closed until someone decides who may call it.
 */
export const requiredRoles: Readonly<Record<string, Role>> = {
  "RunService/GetRun": Role.VIEWER,
  "RunService/ListRuns": Role.VIEWER,
  "RunService/WatchRunEvents": Role.VIEWER,
  "RunService/ReadLogs": Role.VIEWER,
  "RunService/ListApprovals": Role.VIEWER,
  "RunService/EvaluateWorkflow": Role.VIEWER,
  "RunService/ValidateWorkflows": Role.VIEWER,
  "RunService/SubmitRun": Role.OPERATOR,
  "RunService/CancelRun": Role.OPERATOR,
  "RunService/ResumeRun": Role.OPERATOR,
  "RunService/ApproveStep": Role.APPROVER,
  "RunService/RejectStep": Role.APPROVER,
  "RunService/ReconcileRuns": Role.ADMIN,
  "RunService/PruneRuns": Role.ADMIN,
  "RepoService/GetWorkflow": Role.VIEWER,
  "RepoService/ListWorkflows": Role.VIEWER,
  "RepoService/CreateWorkflow": Role.ADMIN,
  "RepoService/InitRepo": Role.ADMIN,
  "AuthService/WhoAmI": Role.VIEWER,
  "AuthService/ListTokens": Role.ADMIN,
  "AuthService/CreateToken": Role.ADMIN,
  "AuthService/RevokeToken": Role.ADMIN,
  "WorkerService/ListWorkerTokens": Role.OPERATOR,
  "WorkerService/CreateWorkerToken": Role.ADMIN,
  "WorkerService/RevokeWorkerToken": Role.ADMIN,
  "WorkerService/ListWorkers": Role.VIEWER,
  "DataService/ListData": Role.VIEWER,
  "DataService/GetData": Role.VIEWER,
  "DataService/QueryData": Role.VIEWER,
  "WorkerService/DrainWorker": Role.OPERATOR,
};

/**
 * Methods that take no API token because they authenticate their caller
 * themselves, by `Service/Method`: a worker's control stream, whose first
 * message carries the worker's enrollment token (redeemed by the worker hub,
 * which refuses with token_* codes), and the capability service, whose every
 * request carries a step's own credential (checked by the service, which
 * refuses with permission_denied). Every other method needs an API token and
 * its role above; a method is in one table or the other, never both (a test
 * checks it).
 */
export const selfAuthenticated: ReadonlySet<string> = new Set([
  "WorkerService/Attach",
  "CapabilityService/GetContext",
  "CapabilityService/WriteResource",
  "CapabilityService/ReadResource",
  "CapabilityService/QueryData",
  "CapabilityService/GetSecret",
  "CapabilityService/Finish",
  "CapabilityService/GetBundle",
]);

/** Whether `service/method` authenticates its caller itself (see selfAuthenticated). */
export function authenticatesItself(service: string, method: string): boolean {
  return selfAuthenticated.has(`${service.replace(/^.*\./, "")}/${method}`);
}

/**
 * The principal of a call to a self-authenticating method before it has
 * authenticated: it has no role, so authorize() refuses it everything.
 */
export const anonymousPrincipal: Principal = {
  name: "anonymous",
  kind: ActorKind.UNSPECIFIED,
  role: Role.UNSPECIFIED,
};

/** "ROLE_APPROVER" is "approver". */
export function roleName(role: Role): string {
  return (Role[role] ?? "UNSPECIFIED").replace(/^ROLE_/, "").toLowerCase() || "unspecified";
}

/** The role a user typed (`viewer`, `operator`, `approver`, `admin`), or undefined. */
export function parseRole(text: string): Role | undefined {
  const roles: Record<string, Role> = {
    viewer: Role.VIEWER,
    operator: Role.OPERATOR,
    approver: Role.APPROVER,
    admin: Role.ADMIN,
  };
  return roles[text.trim().toLowerCase()];
}

/** Throws permission_denied unless `principal` may call `service/method`; says who lacked what. */
export function authorize(principal: Principal, service: string, method: string): void {
  const key = `${service.replace(/^.*\./, "")}/${method}`;
  const needed = requiredRoles[key];
  if (needed === undefined) {
    throw new SwampError(ErrorCode.PERMISSION_DENIED, `${key} is not open to any caller`, {
      hint: "this method has no role assigned; it cannot be called through the API",
    });
  }
  if (principal.role >= needed) return;
  const who = principal.kind === ActorKind.TOKEN
    ? `token ${principal.name}`
    : `user ${principal.name}`;
  throw new SwampError(
    ErrorCode.PERMISSION_DENIED,
    `${who} has role ${roleName(principal.role)}; ${key} needs ${roleName(needed)} or above`,
    {
      hint: `use a token with role ${roleName(needed)} or above, or ask an admin for one ` +
        `(swamp auth token create NAME --role ${roleName(needed)})`,
    },
  );
}
