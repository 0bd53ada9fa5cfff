import type { Diagnostic } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { DiagnosticSink } from "../diagnostics/mod.ts";
import type { ExpressionCheck } from "../ports/expressions.ts";
import type { WorkflowFile } from "./catalog.ts";
import { expressionSites, KNOWN_VARIABLES } from "./expression_sites.ts";
import { inputReferenceFindings } from "./input_refs.ts";
import { didYouMean } from "../text/suggest.ts";
import { maskedRead, rewriteVaultCalls } from "../expressions/vault_calls.ts";

/** Checks expressions (syntax and the names they use) in one batch. */
export type ExpressionChecker = (
  expressions: string[],
  known: string[],
) => Promise<ExpressionCheck[]>;

/**
 * Every expression of a workflow file checked without evaluating it: syntax,
 * and variables that do not exist (a typo such as `input.env`, or a selector
 * that can never resolve). One diagnostic per broken expression, at its value.
 */
export async function checkWorkflowExpressions(
  entry: WorkflowFile,
  check: ExpressionChecker,
): Promise<Diagnostic[]> {
  const sites = expressionSites(entry.source.data);
  if (sites.length === 0) return [];
  const unique = [...new Set(sites.map((s) => s.expression))];
  // `vault.get("V", "K")` is checked as the text it stands for; no secret is read here.
  const results = new Map<string, ExpressionCheck>();
  const checkable: string[] = [];
  const asWritten: string[] = [];
  for (const expression of unique) {
    try {
      checkable.push(rewriteVaultCalls(expression, maskedRead));
      asWritten.push(expression);
    } catch (error) {
      results.set(expression, { ok: false, error: (error as Error).message });
    }
  }
  (await check(checkable, KNOWN_VARIABLES)).forEach((result, i) =>
    results.set(asWritten[i], result)
  );
  const sink = new DiagnosticSink({ file: entry.file, yaml: entry.source.yaml });
  const declared = declaredEnvNames(entry.source.data);
  for (const site of sites) {
    const result = results.get(site.expression);
    if (!result) continue;
    if (result.ok) {
      const undeclared = (result.envReads ?? []).filter((name) => !declared.includes(name));
      if (undeclared.length > 0) {
        sink.add({
          rule: "env-undeclared",
          message: `\`${site.expression}\` reads ${
            undeclared.map((n) => `env.${n}`).join(", ")
          }, which the workflow does not declare`,
          hint: `add it to the workflow's \`reads: {env: [${
            [...declared, ...undeclared].join(", ")
          }]}\`; only declared variables reach expressions`,
          path: site.path,
        });
      }
      continue;
    }
    sink.add({
      rule: "expression-invalid",
      message: `\`${site.expression}\`: ${result.error}`,
      hint: hintFor(result.error, site.placement),
      path: site.path,
    });
  }
  // Only expressions that parse: a broken one already has its diagnostic.
  const parsed = sites.filter((site) => results.get(site.expression)?.ok);
  for (const finding of inputReferenceFindings(entry.source.data, parsed)) sink.add(finding);
  return sink.items;
}

function declaredEnvNames(data: unknown): string[] {
  const reads = (data as { reads?: { env?: unknown } } | null)?.reads;
  const names = reads && typeof reads === "object" ? reads.env : undefined;
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : [];
}

function hintFor(error: string, placement: boolean): string {
  const unknown = /unknown variables?: (.*)$/.exec(error);
  const suggestion = unknown
    ? unknown[1].split(", ").map((name) => didYouMean(name, KNOWN_VARIABLES)).filter(Boolean)
      .join(" ")
    : "";
  const base = unknown
    ? suggestion || `expressions can use ${KNOWN_VARIABLES.join(", ")}`
    : "see docs/reference/workflow-file.md#expressions";
  return placement ? `${base}; a placement value that cannot resolve matches no worker` : base;
}
