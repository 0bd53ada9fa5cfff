// The program the sandboxed process runs (as a data: URL, so it needs no
// file): it imports one extension module, reads its exported `model` and
// prints the schemas as JSON Schemas on one line after a marker, so whatever
// the module itself prints is ignored. Never calls a method's `execute`.
// Plain JavaScript: the sandbox loads it without type checking.

/** Starts the line that carries the result. */
export const resultMarker = "\u0001swamp-extension-result:";

export const harnessSource = `
const marker = ${JSON.stringify(resultMarker)};
const print = (value) => console.log("\\n" + marker + JSON.stringify(value));
const problem = (rule, message, hint, severity = "error") =>
  print({ problem: { rule, message, hint, severity } });
const text = (error) => error instanceof Error ? error.name + ": " + error.message : String(error);
class Shape extends Error {}

function jsonSchema(z, value, where) {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || !("_zod" in value)) {
    throw new Shape(where + " is not a zod schema");
  }
  try {
    return z.toJSONSchema(value, { io: "input", unrepresentable: "any" });
  } catch (error) {
    throw new Shape(where + " cannot be written as a JSON Schema: " + text(error));
  }
}

function entries(value, where) {
  if (value === undefined) return [];
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => {
      if (item && typeof item === "object" && typeof item.name === "string") return [[item.name, item]];
      if (item && typeof item === "object") return Object.entries(item);
      throw new Shape(where + "[" + i + "] is not a map");
    });
  }
  if (value && typeof value === "object") return Object.entries(value);
  throw new Shape(where + " must be a map");
}

function describe(z, model) {
  if (typeof model.type !== "string" || model.type === "") {
    throw new Shape("the exported model has no \`type\` string");
  }
  const methods = {};
  for (const [name, method] of entries(model.methods, "methods")) {
    if (!method || typeof method !== "object") throw new Shape("method " + name + " is not a map");
    methods[name] = {
      ...(typeof method.description === "string" ? { description: method.description } : {}),
      ...(method.arguments !== undefined
        ? { arguments: jsonSchema(z, method.arguments, "methods." + name + ".arguments") }
        : {}),
    };
  }
  const resources = entries(model.resources, "resources").map(([name, spec]) => {
    const schema = spec && typeof spec === "object" && "_zod" in spec ? spec : spec?.schema;
    return {
      name,
      ...(typeof spec?.description === "string" ? { description: spec.description } : {}),
      ...(schema !== undefined ? { schema: jsonSchema(z, schema, "resources." + name) } : {}),
    };
  });
  return {
    type: model.type,
    ...(model.version !== undefined ? { version: String(model.version) } : {}),
    ...(model.globalArguments !== undefined
      ? { globalArguments: jsonSchema(z, model.globalArguments, "globalArguments") }
      : {}),
    ...(model.inputsSchema !== undefined
      ? { inputs: jsonSchema(z, model.inputsSchema, "inputsSchema") }
      : {}),
    methods,
    resources,
    files: entries(model.files, "files").map(([name]) => name),
  };
}

let module;
try {
  module = await import(Deno.args[0]);
} catch (error) {
  const denied = error?.name === "NotCapable" || error?.name === "PermissionDenied";
  if (denied) {
    problem(
      "extension-permission-denied",
      "importing the module needed a permission validation does not give: " + text(error),
      "a module's top level may only read files under extensions/models/ and import zod; " +
        "do network, environment and file work inside a method's execute",
    );
  } else if (/--no-npm|--no-remote/.test(String(error?.message))) {
    problem(
      "extension-import-failed",
      "the module imports a package validation cannot load (only zod is available, nothing is downloaded): " +
        text(error),
      "import zod as npm:zod@4, npm:zod or zod; import other packages inside a method's execute (await import(...))",
    );
  } else {
    problem(
      "extension-import-failed",
      "importing the module failed: " + text(error),
      "fix the error above; zod is available as npm:zod@4, npm:zod or zod, other packages are not",
    );
  }
  Deno.exit(0);
}
const model = module.model;
if (model === undefined || model === null || typeof model !== "object") {
  problem(
    "extension-no-model",
    "the module exports no \`model\` object, so it declares no model type",
    "export const model = { type, version, globalArguments, methods }; " +
      "a helper module that only other modules import can stay as it is",
    "warning",
  );
  Deno.exit(0);
}
try {
  const { z } = await import("zod");
  print({ model: describe(z, model) });
} catch (error) {
  problem(
    "extension-invalid-model",
    "the exported \`model\` is not a model type: " + (error instanceof Shape ? error.message : text(error)),
    "see docs/guides/extension-models.md for the shape of \`model\`",
  );
}
Deno.exit(0);
`;
