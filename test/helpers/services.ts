import {
  ActorKind,
  bindService,
  type Executor,
  localRunService,
  repoLocator,
  Role,
} from "../../runtime/mod.ts";
import { runServiceEnv } from "../../cli/wiring.ts";

/** The in-process RunService for a repository, wired as the CLI wires it, acting as `actor`. */
export function runServiceFor(
  root: string,
  actor = "tester",
  extraExecutors: Executor[] = [],
) {
  const principal = { name: actor, kind: ActorKind.OS_USER, role: Role.ADMIN };
  const env = runServiceEnv(repoLocator(root));
  if (extraExecutors.length > 0) {
    const builtIn = env.executors;
    let all: Promise<ReadonlyMap<string, Executor>> | undefined;
    env.executors = () =>
      all ??= builtIn().then((map) =>
        new Map([...map, ...extraExecutors.map((e) => [e.name, e] as const)])
      );
  }
  return bindService(
    localRunService(env),
    () => ({ principal, signal: new AbortController().signal }),
  );
}

/** The executors the CLI is built with (loopback, docker), for tests beside runtime code. */
export { executors as cliExecutors } from "../../cli/wiring.ts";
