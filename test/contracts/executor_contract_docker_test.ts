// The executor contract run against the Docker executor and a real engine,
// with a busybox image built locally.
import { createDockerExecutor } from "../../plugins/executors/docker/mod.ts";
import { containersLabelled, dockerAvailable, ensureTestImage } from "../helpers/docker.ts";
import { executorContract } from "./executor_contract.ts";

if (await dockerAvailable()) {
  const image = await ensureTestImage();
  const create = () => createDockerExecutor({ defaultImage: image });
  await executorContract("docker", create().features, () =>
    Promise.resolve({
      executor: create(),
      dispose: () => Promise.resolve(),
      leftovers: (process) =>
        containersLabelled({ "dev.swamp.owned": "true" }).then((ids) =>
          ids.filter((id) => id === process.containerId)
        ),
    }));
} else {
  Deno.test({ name: "executor contract (docker): no Docker engine here", ignore: true, fn() {} });
}
