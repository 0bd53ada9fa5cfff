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
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { executorContract } from "./executor_contract.ts";

// One hub and worker per case: a case's "another" executor (the reaper)
// shares them, and they are stopped when its last executor is disposed,
// so each case leaves no socket or timer behind.
let shared: { hub: Promise<TestHub>; users: number } | undefined;

async function make() {
  shared ??= {
    hub: startTestHub().then(async (t) => {
      await t.connect("contract-worker", ["--concurrency", "4"]);
      return t;
    }),
    users: 0,
  };
  const mine = shared;
  mine.users++;
  const t = await mine.hub;
  return {
    executor: createRemoteExecutor({ dispatcher: t.hub }),
    async dispose() {
      if (--mine.users > 0) return;
      if (shared === mine) shared = undefined;
      await t[Symbol.asyncDispose]();
    },
  };
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

executorContract("remote", features, make);
