// The runtime's own state, readable as data items of built-in models
// (docs/reference/data.md#runtime-models): `swamp/worker` (the workers the
// orchestrator knows), `swamp/enrollment-token` (worker enrollment tokens,
// never their secret or its hash) and `swamp/step-lease` (each step's newest
// lease). Read-only and synthesized on every read: each record is version 1,
// its hash that of its attributes; writes to these models are refused.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Worker } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { WorkerState, WorkerTokenState } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import type { DataDraft, DataItem, DataQuery, DataStore } from "../ports/data.ts";
import type { LeaseStore } from "../ports/leases.ts";
import type { WorkerTokenStore } from "../ports/worker_tokens.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { workerTokenState } from "../services/worker_tokens.ts";
import {
  dataLimit,
  dataOrder,
  dataPage,
  hashAttributes,
  matchesData,
  parseDataCursor,
} from "./items.ts";

export const RUNTIME_MODELS = ["swamp/enrollment-token", "swamp/step-lease", "swamp/worker"];

/** What the view reads: a store's data, tokens and leases, and (optionally) the worker roster. */
export type RuntimeSources =
  & DataStore
  & Pick<WorkerTokenStore, "listWorkerTokens">
  & Pick<LeaseStore, "listLeases">;

const time = (t: Timestamp | undefined) => t ? timestampDate(t).toISOString() : undefined;
const lower = (name: string | undefined, prefix: string) =>
  (name ?? "unspecified").replace(prefix, "").toLowerCase();
const epoch = new Date(0);

function synthesized(model: string, spec: string, name: string, attributes: unknown, at?: Date) {
  const { hash } = hashAttributes(attributes);
  const item: DataItem = {
    id: `${model}/${name}`,
    model,
    modelType: model,
    name,
    spec,
    version: 1,
    hash,
    attributes,
    tags: {},
    runId: "",
    stepId: "",
    attempt: 0,
    createTime: at ?? epoch,
  };
  return item;
}

/** Drops undefined fields, so the attributes are plain JSON. */
const plain = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * A DataStore over `sources` whose listings and reads also answer for the
 * runtime models; `workers` lists the orchestrator's workers (none when absent).
 */
export function withRuntimeModels(
  sources: RuntimeSources,
  workers?: () => Promise<Worker[]>,
): DataStore {
  async function records(model: string): Promise<DataItem[]> {
    switch (model) {
      case "swamp/enrollment-token":
        return (await sources.listWorkerTokens()).map(({ token: t }) =>
          synthesized(
            model,
            "enrollment-token",
            t.name,
            plain({
              name: t.name,
              labels: { ...t.labels },
              state: lower(
                WorkerTokenState[workerTokenState(t, new Date())],
                "WORKER_TOKEN_STATE_",
              ),
              createTime: time(t.createTime),
              expireTime: time(t.expireTime),
              revokeTime: time(t.revokeTime),
              enrollTime: time(t.enrollTime),
              boundMachineId: t.boundMachineId || undefined,
              createdBy: t.createdBy || undefined,
            }),
            t.createTime ? timestampDate(t.createTime) : undefined,
          )
        );
      case "swamp/step-lease":
        return (await sources.listLeases()).map((l) =>
          synthesized(model, "step-lease", `${l.runId}/${l.stepId}`, {
            id: l.id,
            runId: l.runId,
            stepId: l.stepId,
            attempt: l.attempt,
            epoch: Number(l.epoch),
            workerId: l.workerId,
            createTime: l.createTime.toISOString(),
            expireTime: l.expireTime.toISOString(),
            hasWritten: l.hasWritten,
            state: l.state,
          }, l.createTime)
        );
      case "swamp/worker":
        return (workers ? await workers() : []).map((w) =>
          synthesized(
            model,
            "worker",
            w.name,
            plain({
              id: w.id,
              name: w.name,
              state: lower(WorkerState[w.state], "WORKER_STATE_"),
              labels: { ...w.labels },
              running: [...w.running],
              concurrency: w.concurrency,
              executors: [...w.executors],
              softwareVersion: w.softwareVersion || undefined,
              tokenName: w.tokenName || undefined,
              connectTime: time(w.connectTime),
              lastSeenTime: time(w.lastSeenTime),
            }),
            w.connectTime ? timestampDate(w.connectTime) : undefined,
          )
        );
    }
    return [];
  }

  const runtimeOnly = (query: DataQuery) =>
    query.model !== undefined && RUNTIME_MODELS.includes(query.model);

  return {
    putData(draft: DataDraft) {
      if (RUNTIME_MODELS.includes(draft.model)) {
        return Promise.reject(
          new SwampError(
            ErrorCode.USAGE,
            `${draft.model} is a built-in model: it cannot be written`,
            {
              hint: "write data under a model definition of your own",
            },
          ),
        );
      }
      return sources.putData(draft);
    },
    async getData(model, name, version) {
      if (!RUNTIME_MODELS.includes(model)) return sources.getData(model, name, version);
      if (version !== undefined && version !== 1) return undefined;
      return (await records(model)).find((item) => item.name === name);
    },
    async listDataVersions(model, name) {
      if (!RUNTIME_MODELS.includes(model)) return sources.listDataVersions(model, name);
      return (await records(model)).some((item) => item.name === name) ? [1] : [];
    },
    async listData(query) {
      if (!runtimeOnly(query)) return sources.listData(query);
      const limit = dataLimit(query);
      const after = parseDataCursor(query.cursor);
      const items = (await records(query.model!))
        .filter((item) => matchesData(item, query) && (!after || dataOrder(after, item) < 0))
        .sort(dataOrder);
      return dataPage(items.slice(0, limit + 1), limit);
    },
  };
}
