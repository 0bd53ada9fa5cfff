// The executor contract run against the remote executor with a real worker
// that offers docker (`swamp worker connect --executor loopback,docker`) and
// a real engine: every step is placed as a docker step, so it crosses the
// wire as a container (RemoteStepWork.container, .limits) and the worker
// runs it with its docker executor. Cancel stages, timeouts, memory limits
// and a reap (KillLease, which the worker carries out by removing the
// container) must behave exactly as for a local docker step.
import { createRemoteExecutor } from "../../plugins/executors/remote/mod.ts";
import { createDockerExecutor } from "../../plugins/executors/docker/mod.ts";
import type { Executor } from "../../runtime/mod.ts";
import { capability } from "../helpers/capabilities.ts";
import { containersLabelled, ensureTestImage } from "../helpers/docker.ts";
import { sharedTestHub } from "../helpers/hub.ts";
import { executorContract } from "./executor_contract.ts";

const docker = await capability("docker");

if (docker.available) {
  const image = await ensureTestImage();

  /** The remote executor, sending every step to a docker worker in the test image. */
  const asDocker = (remote: Executor): Executor => ({
    ...remote,
    features: createDockerExecutor().features,
    dispatch: (step, signal) =>
      remote.dispatch({
        ...step,
        container: { ...step.container, image },
        placement: { ...step.placement, executor: "docker" },
      }, signal),
  });

  const lend = sharedTestHub("docker-worker", [
    "--executor",
    "loopback,docker",
    "--concurrency",
    "4",
  ]);
  const make = async () => {
    const { hub, release } = await lend();
    return {
      executor: asDocker(createRemoteExecutor({ dispatcher: hub.hub })),
      leftovers: (process: { containerId?: string }) =>
        containersLabelled({ "dev.swamp.owned": "true" }).then((ids) =>
          ids.filter((id) => id === process.containerId)
        ),
      dispose: release,
    };
  };
  await executorContract("remote, docker worker", createDockerExecutor().features, make);
} else {
  Deno.test({
    name: `executor contract (remote, docker worker) (skipped: ${docker.reason})`,
    ignore: true,
    fn() {},
  });
}
