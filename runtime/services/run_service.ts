import { create } from "@bufbuild/protobuf";
import {
  type RunService,
  ValidateWorkflowsResponseSchema,
  WorkflowValidationSchema,
} from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { loadModelCatalog } from "../model/catalog.ts";
import { WorkflowCatalog } from "../workflow/catalog.ts";
import type { ServiceImpl } from "./call_context.ts";
import type { RunStore } from "../ports/store.ts";
import { runReads } from "./run_reads.ts";
import type { RunServiceEnv } from "./run_env.ts";
import { runWrites } from "./run_writes.ts";
import { runApprovals } from "./run_approvals.ts";
import { runPrune } from "./run_prune.ts";
import { cachedChecker } from "./expression_cache.ts";
import { evaluateWorkflow } from "./evaluate.ts";
import { checkWorkflowExpressions } from "../workflow/expression_check.ts";

/** The in-process RunService. */
export function localRunService(env: RunServiceEnv): ServiceImpl<typeof RunService> {
  const locator = env.locator;
  let opened: Promise<RunStore> | undefined;
  const store = () => (opened ??= locator.root().then((root) => env.openStore(root)));
  return {
    ...runReads(env, store),
    ...runWrites(env, store),
    ...runApprovals(env, store),
    ...runPrune(env, store),
    evaluateWorkflow: (request) => evaluateWorkflow(env, request),
    async validateWorkflows(request) {
      const root = await locator.root();
      const names = request.workflows ?? [];
      if (names.length === 0 && !request.all) {
        throw new SwampError(
          ErrorCode.USAGE,
          "name a workflow to validate, or ask for all of them",
          {
            hint: "swamp workflow validate <name>  or  swamp workflow validate --all",
          },
        );
      }
      const [workflows, models, executors] = await Promise.all([
        WorkflowCatalog.load(root),
        loadModelCatalog(root, { extensions: env.extensions }),
        env.executors(),
      ]);
      const entries = names.length > 0 ? names.map((n) => workflows.find(n)) : workflows.files;
      const check = env.expressions ? cachedChecker(root, env.expressions) : undefined;
      const results = [];
      for (const entry of entries) {
        const diagnostics = workflows.validate(entry, models, executors);
        if (check && entry.source.data) {
          diagnostics.push(...await checkWorkflowExpressions(entry, check));
          diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
        }
        results.push(create(WorkflowValidationSchema, {
          file: entry.file,
          workflowId: entry.id ?? "",
          workflowName: entry.name ?? "",
          valid: !diagnostics.some((d) => d.severity === Severity.ERROR),
          diagnostics,
          jobCount: entry.size.jobs,
          stepCount: entry.size.steps,
        }));
      }
      return create(ValidateWorkflowsResponseSchema, {
        results,
        modelDiagnostics: models.diagnostics,
      });
    },
  };
}
