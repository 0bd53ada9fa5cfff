/**
 * Reads the schemas an extension module (`extensions/models/*.ts`) declares
 * without running any of its methods. Importing a module runs its top-level
 * code, so an implementation imports it in a sandbox: a separate process
 * allowed to read only `readableDir` and what the import needs, with no
 * network, environment, writes or subprocesses, a time limit and a memory
 * limit (plugins/extensions/deno).
 */
export interface ExtensionInspector {
  /** Changes whenever `inspect` could yield something else for the same text (cache key). */
  readonly version: string;
  /** Imports `file` (absolute) and returns its `model`, or why it could not. */
  inspect(file: string, readableDir: string): Promise<ExtensionInspection>;
}

/** A JSON Schema (as zod 4's `z.toJSONSchema` writes it, for the input side). */
export type JsonSchema = Record<string, unknown>;

/** One method of an extension model type. */
export interface ExtensionMethodSchema {
  description?: string;
  /** Its `arguments`; absent when the method declares none (anything is accepted). */
  arguments?: JsonSchema;
}

/** One kind of output (a `resources` entry): its name and the shape of its data. */
export interface ExtensionResourceSpec {
  name: string;
  description?: string;
  schema?: JsonSchema;
}

/** What an extension module's exported `model` declares, as plain data. */
export interface ExtensionModelSchemas {
  type: string;
  version?: string;
  globalArguments?: JsonSchema;
  /** Its `inputsSchema`: the inputs `${{ inputs.x }}` in a definition's arguments read. */
  inputs?: JsonSchema;
  methods: Record<string, ExtensionMethodSchema>;
  resources: ExtensionResourceSpec[];
  /** Names of its `files` output specs. */
  files?: string[];
}

/** Why a module gave no model: a diagnostic for its file. */
export interface ExtensionProblem {
  /** Stable rule name: extension-import-failed, extension-permission-denied, … */
  rule: string;
  message: string;
  hint: string;
  severity: "error" | "warning";
  /**
   * The outcome may differ on another try with the same text (the time or
   * memory limit was hit, the sandbox could not start): never cached.
   */
  transient?: boolean;
}

export type ExtensionInspection =
  | { model: ExtensionModelSchemas; problem?: undefined }
  | { model?: undefined; problem: ExtensionProblem };
