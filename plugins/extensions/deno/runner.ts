// The program an extension method's step runs: a Deno subprocess that may
// read only the extensions folder and zod, reach only the capability service,
// and read only its own identity variables. It imports the module, builds the
// method's `context` (swamp's MethodContext names) whose every call is an RPC
// to the capability service, validates the arguments with the method's zod
// schema, calls `execute(args, context)` and sends the result with Finish.
// Plain JavaScript, loaded as a data: URL (no file, no type checking).
import { sandboxFlags } from "./sandbox_flags.ts";

export interface RunnerOptions {
  deno?: string;
  zodDir: string;
  /** The extensions folder (absolute): the only files the method may read. */
  extensionsDir: string;
  /** The module to import (absolute path). */
  module: string;
  /** host:port of the capability service. */
  capabilityHost: string;
  memoryMb: number;
}

/** The step's command: `deno run` with narrow permissions, the runner and the module. */
export function runnerCommand(
  options: RunnerOptions & { imports: { imports: Record<string, string> } },
): string[] {
  const importMap = `data:application/json;base64,${btoa(JSON.stringify(options.imports))}`;
  const runner = `data:application/javascript;base64,${btoa(runnerSource)}`;
  return [
    options.deno ?? Deno.execPath(),
    ...sandboxFlags({
      importMap,
      readable: [options.extensionsDir, options.zodDir],
      net: options.capabilityHost,
      env: runnerEnvNames,
      memoryMb: options.memoryMb,
    }),
    runner,
    new URL(`file://${options.module}`).href,
  ];
}

/** The only variables the method's process may read. */
export const runnerEnvNames = [
  "SWAMP_CAPABILITY_URL",
  "SWAMP_CAPABILITY_TOKEN",
  "SWAMP_RUN_ID",
  "SWAMP_STEP_ID",
];

export const runnerSource = `
const url = Deno.env.get("SWAMP_CAPABILITY_URL");
const credential = Deno.env.get("SWAMP_CAPABILITY_TOKEN");
const text = (e) => e instanceof Error ? e.name + ": " + e.message : String(e);
async function rpc(method, body = {}) {
  const response = await fetch(url + "/swamp.v1.CapabilityService/" + method, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ credential, ...body }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(method + " refused: " + (answer.code ?? response.status) + ": " + (answer.message ?? ""));
    error.name = "CapabilityError";
    throw error;
  }
  return answer;
}
let finished = false;
async function fail(kind, error) {
  const message = kind + ": " + text(error);
  console.error("swamp: " + message);
  if (!finished) {
    finished = true;
    await rpc("Finish", { error: message }).catch(() => {});
  }
  Deno.exit(kind === "permission denied" ? 4 : kind === "import failed" ? 3 : 1);
}
const permission = (e) => e && (e.name === "NotCapable" || e.name === "PermissionDenied");
const controller = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) {
  // context.signal tells the method; a method that does not stop within 2 s is ended here
  // (the executor kills the process group after its grace period in any case).
  try {
    Deno.addSignalListener(signal, () => {
      controller.abort(new Error(signal));
      setTimeout(() => Deno.exit(130), 2000);
    });
  } catch {}
}
const ctx = await rpc("GetContext");
let mod;
try {
  mod = await import(Deno.args[0]);
} catch (e) {
  await fail(permission(e) ? "permission denied" : "import failed", e);
}
const model = mod.model;
const method = model?.methods?.[ctx.methodName];
if (!method || typeof method.execute !== "function") {
  await fail("method not found", new Error("the module's model has no method " + ctx.methodName));
}
const specs = new Map();
const resources = model.resources ?? {};
for (const [key, value] of Array.isArray(resources)
  ? resources.map((r) => [r.name, r]) : Object.entries(resources)) specs.set(key, value);
const log = (level) => (...parts) =>
  console.error(level + " " + parts.map((p) => typeof p === "string" ? p : JSON.stringify(p)).join(" "));
const context = {
  signal: controller.signal,
  globalArgs: ctx.globalArgs ?? {},
  definition: { id: ctx.definitionId, name: ctx.definitionName, version: ctx.definitionVersion, type: ctx.modelType },
  methodName: ctx.methodName,
  runId: ctx.runId,
  stepId: ctx.stepId,
  logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
  async writeResource(spec, name, data, options = {}) {
    const declared = specs.get(spec);
    if (!declared) throw new Error("writeResource: resource spec " + spec + " is not declared by the model");
    const schema = declared.schema ?? declared.attributes;
    const value = schema && typeof schema.parse === "function" ? schema.parse(data) : data;
    const size = JSON.stringify(value ?? null).length;
    if (size > 16 * 1024 * 1024) {
      throw new Error("writeResource: data_too_large: " + spec + "/" + name + " is " +
        Math.round(size / 1048576) + " MiB of JSON; a data item holds at most 16 MiB");
    }
    const written = await rpc("WriteResource", { spec, name, attributes: value, tags: options.tags ?? {} });
    return { model: written.model, name: written.name, version: Number(written.version), hash: written.hash };
  },
  async readResource(name, version) {
    const found = await rpc("ReadResource", { name, version: version ?? 0 });
    return found.found ? found.attributes ?? null : null;
  },
  async queryData(predicate) {
    const answer = await rpc("QueryData", { predicate: predicate ?? "" });
    return (answer.items ?? []).map((i) => ({ ...i, version: Number(i.version) }));
  },
  vault: { get: async (vault, key) => (await rpc("GetSecret", { vault, key })).value },
};
let args = ctx.methodArgs ?? {};
try {
  if (method.arguments && typeof method.arguments.parse === "function") args = method.arguments.parse(args);
} catch (e) {
  await fail("invalid arguments", e);
}
let result;
try {
  result = await method.execute(args, context);
} catch (e) {
  await fail(permission(e) ? "permission denied" : "method failed", e);
}
finished = true;
await rpc("Finish", { result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
Deno.exit(0);
`;
