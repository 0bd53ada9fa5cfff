import { ActorKind, bindService, localRunService, repoLocator, Role } from "../../runtime/mod.ts";
import { runServiceEnv } from "../../cli/wiring.ts";

/** The in-process RunService for a repository, wired as the CLI wires it, acting as `actor`. */
export function runServiceFor(root: string, actor = "tester") {
  const principal = { name: actor, kind: ActorKind.OS_USER, role: Role.ADMIN };
  return bindService(
    localRunService(runServiceEnv(repoLocator(root))),
    () => ({ principal, signal: new AbortController().signal }),
  );
}
