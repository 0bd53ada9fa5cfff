import { localRunService, repoLocator } from "../../runtime/mod.ts";
import { runServiceEnv } from "../../cli/wiring.ts";

/** The in-process RunService for a repository, wired as the CLI wires it. */
export function runServiceFor(root: string, actor = "tester") {
  return localRunService(runServiceEnv(repoLocator(root), actor));
}
