// The executor contract run against the remote executor with a real worker:
// an in-process hub on the real Connect server over TLS (certificates made
// here), and a real `swamp worker connect` process running the steps with
// its loopback executor. The steps' processes run on this host, so the
// contract's /proc checks (groups, grandchildren) see them.
//
// "The environment is exactly step.env" holds for the step as sent: the
// worker adds nothing of its own; the orchestrator's hub adds SWAMP_WORKER_ID
// at placement (only then is the worker known), as a local step gets its
// identity from the orchestrator too.
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import { sharedTestHub } from "../helpers/hub.ts";
import { executorContract } from "./executor_contract.ts";

const lend = sharedTestHub("contract-worker", ["--concurrency", "4"]);

async function make() {
  const { hub, release } = await lend();
  return { executor: createRemoteExecutor({ dispatcher: hub.hub }), dispose: release };
}

// The features the remote executor declares (no dispatch happens to read them).
const features = createRemoteExecutor({
  dispatcher: {
    dispatch: () => {
      throw new Error("not dispatched");
    },
    killLease: () => Promise.resolve("gone"),
  },
}).features;

await executorContract("remote", features, make);
