import type { Diagnostic } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { DiagnosticSink, reportIssues } from "../diagnostics/mod.ts";
import { readYamlSource } from "../text/read_source.ts";
import { listFiles } from "../repo/files.ts";
import { builtinModelTypes, type ModelTypeInfo } from "./builtin.ts";
import { modelDefinition, type ModelDefinitionData } from "./schema.ts";

export interface ModelDefinition extends ModelDefinitionData {
  /** Type as given in the file, or taken from the directory it sits in. */
  type: string;
  file: string;
}

/** Every model type and definition in a repository, with the problems found loading them. */
export interface ModelCatalog {
  types: Map<string, ModelTypeInfo>;
  definitions: ModelDefinition[];
  diagnostics: Diagnostic[];
}

/** Loads models/** definitions and discovers extension types under extensions/models. */
export async function loadModelCatalog(root: string): Promise<ModelCatalog> {
  const types = new Map(builtinModelTypes.map((t) => [t.type, t]));
  const diagnostics: Diagnostic[] = [];
  for (const file of await listFiles(root, "extensions/models", [".ts", ".js"])) {
    const declared = await declaredExtensionType(`${root}/${file}`);
    if (declared) types.set(declared, { type: declared, origin: file });
  }
  const definitions: ModelDefinition[] = [];
  for (const file of await listFiles(root, "models", [".yaml", ".yml"])) {
    const parsed = await readYamlSource(`${root}/${file}`);
    const sink = new DiagnosticSink({ file, yaml: parsed.yaml });
    for (const problem of parsed.problems) sink.add(problem);
    if (parsed.data) {
      const result = modelDefinition.safeParse(parsed.data);
      if (!result.success) reportIssues(sink, modelDefinition, parsed.data, result.error.issues);
      else {
        const dirType = file.split("/").slice(1, -1).join("/");
        const type = result.data.type ?? dirType;
        if (result.data.type && dirType && result.data.type !== dirType) {
          sink.add({
            rule: "type-mismatch",
            message:
              `the definition says type \`${result.data.type}\` but sits in models/${dirType}/`,
            hint: `move it to models/${result.data.type}/ or correct \`type\``,
            path: ["type"],
          });
        }
        definitions.push({ ...result.data, type, file });
      }
    }
    diagnostics.push(...sink.items);
  }
  return { types, definitions, diagnostics };
}

/**
 * An extension module declares its model type as a string literal in its
 * exported `model` object (`type: "@me/thing"`). It is found by reading the
 * text, so validation never executes extension code.
 */
async function declaredExtensionType(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  const match = /export\s+const\s+model\b[^{]*\{[\s\S]*?\btype\s*:\s*["'`]([^"'`]+)["'`]/.exec(
    text,
  );
  return match?.[1];
}

/** Finds definitions by name or id. */
export function findDefinitions(catalog: ModelCatalog, nameOrId: string): ModelDefinition[] {
  return catalog.definitions.filter((d) => d.name === nameOrId || d.id === nameOrId);
}
