// The worker half of WorkerService: Attach (a worker's control stream),
// ListWorkers and DrainWorker, over whatever knows the workers: the hub in
// `swamp serve`, or a roster read from the server's published list.
import { create } from "@bufbuild/protobuf";
import {
  DrainWorkerResponseSchema,
  ListWorkersResponseSchema,
  type Worker,
  type WorkerService,
} from "../../../proto/gen/swamp/v1/worker_service_pb.ts";
import { ErrorCode, SwampError } from "../../errors/mod.ts";
import type { ServiceImpl } from "../call_context.ts";
import type { WorkerHub } from "./hub.ts";

/** What knows the workers of a repository's orchestrator. */
export interface WorkerRoster {
  list(): Promise<Worker[]>;
  /** Stops new dispatches to the worker with that name or id. */
  drain(nameOrId: string): Promise<{ worker: Worker; changed: boolean }>;
}

/** The roster of a hub in this process. */
export function hubRoster(hub: WorkerHub): WorkerRoster {
  return {
    list: () => Promise.resolve(hub.list()),
    drain: (nameOrId) => Promise.resolve(hub.drain(nameOrId)),
  };
}

type WorkerMethods = Pick<
  ServiceImpl<typeof WorkerService>,
  "attach" | "listWorkers" | "drainWorker"
>;

/** ListWorkers, DrainWorker and Attach; without a hub, Attach says where workers attach. */
export function workerMethods(roster: WorkerRoster, hub?: WorkerHub): WorkerMethods {
  return {
    attach(requests, ctx) {
      if (!hub) {
        throw new SwampError(ErrorCode.UNAVAILABLE, "workers attach to `swamp serve`", {
          hint: "run `swamp worker connect URL` with the URL `swamp serve` printed",
        });
      }
      return hub.attach(requests, ctx.signal);
    },
    async listWorkers() {
      return create(ListWorkersResponseSchema, { workers: await roster.list() });
    },
    async drainWorker(request) {
      const name = (request.worker ?? "").trim();
      if (name === "") throw new SwampError(ErrorCode.USAGE, "name the worker to drain");
      return create(DrainWorkerResponseSchema, await roster.drain(name));
    },
  };
}
