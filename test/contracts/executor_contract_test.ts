// The executor contract run against the loopback executor (local process
// groups), once for each way it can start a step in its own session.
import { createLoopbackExecutor } from "../../plugins/executors/loopback/mod.ts";
import type { SpawnPreference } from "../../plugins/executors/loopback/session_spawn.ts";
import { executorContract } from "./executor_contract.ts";

for (const spawn of ["auto", "setsid"] satisfies SpawnPreference[]) {
  // Short waits keep the suite fast; the contract's steps use graceMs 300.
  const create = () => createLoopbackExecutor({ killWaitMs: 2000, reapGraceMs: 300, spawn });
  await executorContract(
    spawn === "auto" ? "loopback" : "loopback, setsid(1)",
    create().features,
    () => Promise.resolve({ executor: create(), dispose: () => Promise.resolve() }),
  );
}
