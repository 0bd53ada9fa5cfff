// The executor contract run against the loopback executor (local process groups).
import { createLoopbackExecutor } from "../../plugins/executors/loopback/mod.ts";
import { executorContract } from "./executor_contract.ts";

executorContract("loopback", () =>
  Promise.resolve({
    // Short waits keep the suite fast; the contract's steps use graceMs 300.
    executor: createLoopbackExecutor({ killWaitMs: 2000, reapGraceMs: 300 }),
    dispose: () => Promise.resolve(),
  }));
