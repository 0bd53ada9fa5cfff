import type { Diagnostic } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { DiagnosticSink, reportIssues } from "../diagnostics/mod.ts";
import { readYamlSource } from "../text/read_source.ts";
import { listFiles } from "../repo/files.ts";
import { FileMemo, sameItems } from "../repo/file_memo.ts";
import type { ParsedYaml } from "../text/yaml.ts";
import type { ExtensionInspector } from "../ports/extension_schemas.ts";
import { builtinModelTypes, type ModelTypeInfo } from "./builtin.ts";
import { checkDefinitionAgainstType, extensionTypes } from "./extension_types.ts";
import { loadExtensionModels } from "./extensions.ts";
import { definitionId } from "./definition_id.ts";
import { modelDefinition, type ModelDefinitionData } from "./schema.ts";

export interface ModelDefinition extends ModelDefinitionData {
  /** Type as given in the file, or taken from the directory it sits in. */
  type: string;
  /** As given in the file, or made from its path when it has none. */
  id: string;
  file: string;
}

export interface ModelCatalogOptions {
  /**
   * Reads extension modules' schemas (a sandboxed import). Without it,
   * extension types are found by reading their text, and their methods and
   * arguments are unknown.
   */
  extensions?: ExtensionInspector;
}

/** Every model type and definition in a repository, with the problems found loading them. */
export interface ModelCatalog {
  types: Map<string, ModelTypeInfo>;
  /** Types whose extension module did not load, by the type its text names, with the module. */
  unloaded?: Map<string, string>;
  definitions: ModelDefinition[];
  diagnostics: Diagnostic[];
}

/** One model file as loaded: its definition when valid, and its problems. */
interface LoadedModel {
  definition?: ModelDefinition;
  diagnostics: Diagnostic[];
  yaml?: ParsedYaml;
}

/** Per repository root: its files as last read, and the catalog they last made. */
const loaded = new Map<string, {
  types: FileMemo<string | undefined>;
  models: FileMemo<LoadedModel>;
  last?: { types: unknown[]; models: LoadedModel[]; catalog: ModelCatalog };
}>();
const keptRoots = 16;

/**
 * Loads models/** definitions and discovers extension types under
 * extensions/models. Files unchanged since the last load are not read
 * again, and when none changed the catalog is the one loaded before (a
 * server loads it on every submission; callers only read it).
 */
export async function loadModelCatalog(
  root: string,
  options: ModelCatalogOptions = {},
): Promise<ModelCatalog> {
  const memo = loaded.get(root) ?? { types: new FileMemo(), models: new FileMemo() };
  loaded.delete(root);
  loaded.set(root, memo);
  if (loaded.size > keptRoots) loaded.delete(loaded.keys().next().value!);
  const [extensionFiles, modelFiles] = await Promise.all([
    listFiles(root, "extensions/models", [".ts", ".js"]),
    listFiles(root, "models", [".yaml", ".yml"]),
  ]);
  const modules = options.extensions
    ? await loadExtensionModels(root, options.extensions)
    : undefined;
  const declared: unknown[] = modules ?? await Promise.all(
    extensionFiles.map((file) =>
      memo.types.get(`${root}/${file}`, () => declaredExtensionType(`${root}/${file}`))
    ),
  );
  const models = await Promise.all(
    modelFiles.map((file) => memo.models.get(`${root}/${file}`, () => loadModel(root, file))),
  );
  const last = memo.last;
  if (last && sameItems(last.types, declared) && sameItems(last.models, models)) {
    return last.catalog;
  }
  const types = new Map(builtinModelTypes.map((t) => [t.type, t]));
  const diagnostics: Diagnostic[] = [];
  const unloaded = new Map<string, string>();
  if (modules) {
    const found = await extensionTypes(modules, root);
    for (const info of found.types) if (!types.has(info.type)) types.set(info.type, info);
    diagnostics.push(...found.diagnostics);
    for (const module of modules) {
      if (!module.problem) continue;
      const named = await declaredExtensionType(`${root}/${module.file}`);
      if (named && !types.has(named)) unloaded.set(named, module.file);
    }
  } else {
    extensionFiles.forEach((file, i) => {
      const type = declared[i];
      if (typeof type === "string" && !types.has(type)) types.set(type, { type, origin: file });
    });
  }
  for (const model of models) {
    diagnostics.push(...model.diagnostics);
    const info = model.definition && types.get(model.definition.type);
    if (info) diagnostics.push(...checkDefinitionAgainstType(model.definition!, model.yaml, info));
  }
  const catalog: ModelCatalog = {
    types,
    unloaded,
    definitions: models.flatMap((m) => (m.definition ? [m.definition] : [])),
    diagnostics,
  };
  memo.last = { types: declared, models, catalog };
  return catalog;
}

async function loadModel(root: string, file: string): Promise<LoadedModel> {
  const parsed = await readYamlSource(`${root}/${file}`);
  const sink = new DiagnosticSink({ file, yaml: parsed.yaml });
  for (const problem of parsed.problems) sink.add(problem);
  let definition: ModelDefinition | undefined;
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
      let id = result.data.id;
      if (id === undefined) {
        id = await definitionId(file);
        sink.add({
          severity: "warning",
          rule: "missing-id",
          message: `the definition has no \`id\`; it gets ${id}, made from its path`,
          hint: `add \`id: ${id}\` to keep it when the file moves`,
          path: [],
          key: "name",
        });
      }
      definition = { ...result.data, id, type, file };
    }
  }
  return { definition, diagnostics: sink.items, yaml: parsed.yaml };
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
