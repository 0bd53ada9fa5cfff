import { create, type JsonObject } from "@bufbuild/protobuf";
import {
  CreateWorkflowResponseSchema,
  GetWorkflowResponseSchema,
  InitRepoResponseSchema,
  ListWorkflowsResponseSchema,
  type RepoService,
  StoreKind,
  type WorkflowInfo,
  WorkflowInfoSchema,
} from "../../proto/gen/swamp/v1/repo_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { IdSource } from "../ports/ids.ts";
import { initRepo } from "../repo/init.ts";
import type { StoreChoice } from "../repo/repo.ts";
import { createWorkflowFile } from "../workflow/create.ts";
import { WorkflowCatalog, type WorkflowFile } from "../workflow/catalog.ts";
import { sha256Hex } from "../text/hash.ts";
import type { ServiceImpl } from "./call_context.ts";
import type { RepoLocator } from "./locator.ts";

const storeChoiceOf: Record<StoreKind, StoreChoice | undefined> = {
  [StoreKind.UNSPECIFIED]: undefined,
  [StoreKind.FILE]: "file",
  [StoreKind.SQLITE]: "sqlite",
  [StoreKind.POSTGRES]: "postgres",
};

const storeKindOf: Record<StoreChoice, StoreKind> = {
  file: StoreKind.FILE,
  sqlite: StoreKind.SQLITE,
  postgres: StoreKind.POSTGRES,
};

/** The in-process RepoService. */
export function localRepoService(
  locator: RepoLocator,
  ids: IdSource,
): ServiceImpl<typeof RepoService> {
  return {
    async initRepo(request) {
      const path = request.path || locator.cwd;
      const store = storeChoiceOf[request.store ?? StoreKind.UNSPECIFIED];
      const result = await initRepo(path, store);
      return create(InitRepoResponseSchema, {
        path: result.path,
        store: storeKindOf[result.store],
        created: result.created,
        alreadyInitialized: result.alreadyInitialized,
      });
    },
    async createWorkflow(request) {
      const root = await locator.root();
      const { file } = await createWorkflowFile(
        root,
        request.name ?? "",
        request.description ?? "",
        ids,
      );
      const catalog = await WorkflowCatalog.load(root);
      const entry = catalog.files.find((f) => f.file === file);
      if (!entry) throw new SwampError(ErrorCode.IO, `${file} vanished right after it was written`);
      return create(CreateWorkflowResponseSchema, { workflow: await describe(entry) });
    },
    async getWorkflow(request) {
      const catalog = await WorkflowCatalog.load(await locator.root());
      const entry = catalog.find(request.workflow ?? "");
      return create(GetWorkflowResponseSchema, {
        workflow: await describe(entry),
        definition: (entry.source.data ?? {}) as JsonObject,
        source: entry.source.text,
      });
    },
    async listWorkflows() {
      const catalog = await WorkflowCatalog.load(await locator.root());
      return create(ListWorkflowsResponseSchema, {
        workflows: await Promise.all(catalog.files.map(describe)),
      });
    },
  };
}

async function describe(entry: WorkflowFile): Promise<WorkflowInfo> {
  const data = entry.source.data ?? {};
  const { jobs, steps } = entry.size;
  return create(WorkflowInfoSchema, {
    id: entry.id ?? "",
    name: entry.name ?? "",
    description: typeof data.description === "string" ? data.description : "",
    file: entry.file,
    hash: await sha256Hex(entry.source.text),
    jobCount: jobs,
    stepCount: steps,
  });
}
