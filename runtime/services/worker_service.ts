// The whole WorkerService in process: the enrollment tokens (worker_tokens.ts)
// and the workers (workers/: the control stream, list, drain).
import type { WorkerService } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import type { WorkerTokenStore } from "../ports/worker_tokens.ts";
import type { ServiceImpl } from "./call_context.ts";
import { localWorkerTokens } from "./worker_tokens.ts";
import { type WorkerHub, workerMethods, type WorkerRoster } from "./workers/mod.ts";

/**
 * The in-process WorkerService over a repository's store. The workers
 * themselves live in `swamp serve`: there `hub` takes their control streams
 * and `roster` is the hub's; a local command reads the roster the server
 * publishes (and has no hub).
 */
export function localWorkerService(
  store: () => Promise<WorkerTokenStore>,
  clock: Clock,
  workers: { roster?: WorkerRoster; hub?: WorkerHub } = {},
): ServiceImpl<typeof WorkerService> {
  return {
    ...localWorkerTokens(store, clock),
    ...workerMethods(workers.roster ?? noRoster, workers.hub),
  };
}

const noServer = () =>
  Promise.reject(
    new SwampError(ErrorCode.UNAVAILABLE, "workers are known only to a running `swamp serve`", {
      hint: "ask the server: add --server URL --token NAME.SECRET",
    }),
  );
const noRoster: WorkerRoster = { list: noServer, drain: noServer };
