// Extension modules as model types of the catalog, and the checks of model
// definitions against an extension type's schemas.
import { create } from "@bufbuild/protobuf";
import { type Diagnostic, DiagnosticSchema, Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { DiagnosticSink, reportIssues } from "../diagnostics/mod.ts";
import type { ParsedYaml } from "../text/yaml.ts";
import { didYouMean } from "../text/suggest.ts";
import type { ModelTypeInfo } from "./builtin.ts";
import { type CompiledSchema, compileSchema, type SchemaIssue } from "./extension_values.ts";
import type { ExtensionModule } from "./extensions.ts";
import type { ModelDefinitionData } from "./schema.ts";

/** The catalog's types for these modules, and the problems of the modules. */
export async function extensionTypes(
  modules: readonly ExtensionModule[],
  root: string,
): Promise<{ types: ModelTypeInfo[]; diagnostics: Diagnostic[] }> {
  const types: ModelTypeInfo[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Map<string, string>();
  for (const module of modules) {
    if (module.problem) {
      const { rule, message, hint, severity } = module.problem;
      diagnostics.push(moduleDiagnostic(module.file, root, rule, message, hint, severity));
      continue;
    }
    const model = module.model!;
    const first = seen.get(model.type);
    if (first !== undefined) {
      diagnostics.push(moduleDiagnostic(
        module.file,
        root,
        "duplicate-model-type",
        `model type \`${model.type}\` is also declared by ${first}; this declaration is ignored`,
        "give each extension module its own type",
        "error",
      ));
      continue;
    }
    seen.set(model.type, module.file);
    const methods: NonNullable<ModelTypeInfo["methods"]> = {};
    for (const [name, method] of Object.entries(model.methods)) {
      methods[name] = method.arguments ? { schema: await compileSchema(method.arguments) } : {};
    }
    types.push({
      type: model.type,
      origin: module.file,
      methods,
      globalArguments: model.globalArguments
        ? await compileSchema(model.globalArguments)
        : undefined,
      inputs: model.inputs ? await compileSchema(model.inputs) : undefined,
      extension: model,
    });
  }
  return { types, diagnostics };
}

/**
 * A definition of an extension type: its `globalArguments` must satisfy the
 * type's schema (values holding `${{ }}` are checked at run time), each of
 * its `methods` must exist, and their arguments must fit (partly: a step's
 * inputs may add the rest).
 */
export function checkDefinitionAgainstType(
  definition: ModelDefinitionData & { file: string },
  yaml: ParsedYaml | undefined,
  info: ModelTypeInfo,
): Diagnostic[] {
  if (!info.extension) return [];
  const sink = new DiagnosticSink({ file: definition.file, yaml });
  if (info.globalArguments) {
    report(
      sink,
      info.globalArguments,
      definition.globalArguments ?? {},
      ["globalArguments"],
      false,
    );
  }
  for (const [name, method] of Object.entries(definition.methods ?? {})) {
    const known = info.methods?.[name];
    if (!known) {
      const names = Object.keys(info.methods ?? {});
      sink.add({
        rule: "unknown-method",
        message: `model type \`${info.type}\` has no method \`${name}\``,
        hint: didYouMean(name, names) || `its methods: ${names.join(", ") || "none"}`,
        path: ["methods"],
        key: name,
      });
      continue;
    }
    if (known.schema && method.arguments) {
      report(sink, known.schema, method.arguments, ["methods", name, "arguments"], true);
    }
  }
  return sink.items;
}

/** Reports the problems of `value` against `schema` at `at` in the sink's file. */
export function report(
  sink: DiagnosticSink,
  schema: CompiledSchema,
  value: unknown,
  at: (string | number)[],
  partial: boolean,
  /** Report only problems of these top-level keys, and missing keys (the rest was reported elsewhere). */
  onlyKeys?: readonly string[],
): void {
  let issues = schema.check(value, { partial });
  if (onlyKeys) {
    issues = issues.flatMap((issue): SchemaIssue[] => {
      if (issue.code === "unrecognized_keys") {
        const keys = issue.keys.filter((k) => onlyKeys.includes(k));
        return keys.length > 0 ? [{ ...issue, keys } as SchemaIssue] : [];
      }
      const top = issue.path[0];
      const missing = issue.code === "invalid_type" && issue.path.length === 1 &&
        (value as Record<PropertyKey, unknown>)?.[top as PropertyKey] === undefined;
      return missing || onlyKeys.includes(String(top)) ? [issue] : [];
    });
  }
  if (issues.length > 0) reportIssues(sink, schema.zod, value, issues, at);
}

/** The names a definition's `inputs` schema declares (`inputs.properties`). */
export function declaredInputs(definition: { inputs?: Record<string, unknown> }): string[] {
  const properties = definition.inputs?.properties;
  return properties !== null && typeof properties === "object" ? Object.keys(properties) : [];
}

/**
 * The inputs a step gives a model: those its definition's `inputs` declares,
 * and those its extension type's `inputsSchema` declares. Their schema is the
 * definition's when it has one, else the type's.
 */
export function modelInputs(
  definition: { inputs?: Record<string, unknown> } | undefined,
  info: ModelTypeInfo | undefined,
): { schema?: Record<string, unknown>; names: string[] } {
  const typeInputs = info?.extension?.inputs;
  const names = [
    ...new Set([
      ...declaredInputs(definition ?? {}),
      ...declaredInputs({ inputs: typeInputs }),
    ]),
  ];
  return { schema: definition?.inputs ?? typeInputs, names };
}

function moduleDiagnostic(
  file: string,
  root: string,
  rule: string,
  message: string,
  hint: string,
  severity: "error" | "warning",
): Diagnostic {
  return create(DiagnosticSchema, {
    severity: severity === "warning" ? Severity.WARNING : Severity.ERROR,
    rule,
    message,
    hint,
    file,
    line: modelLine(`${root}/${file}`),
    column: 1,
    path: "",
  });
}

/** The line of `export const model` in the module, else 1. */
function modelLine(path: string): number {
  try {
    const text = Deno.readTextFileSync(path);
    const at = text.search(/export\s+const\s+model\b/);
    return at < 0 ? 1 : text.slice(0, at).split("\n").length;
  } catch {
    return 1;
  }
}
