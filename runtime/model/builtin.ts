import type { ExtensionModelSchemas } from "../ports/extension_schemas.ts";
import type { CompiledSchema } from "./extension_values.ts";

/** What validation needs to know about a model type's methods. */
export interface MethodInfo {
  /** Argument names the method accepts; undefined when not known statically. */
  arguments?: readonly string[];
  /** Arguments that must be given, by the definition or by the step. */
  required?: readonly string[];
  /** The arguments' schema (extension types whose module was read). */
  schema?: CompiledSchema;
}

export interface ModelTypeInfo {
  type: string;
  /** Where the type comes from: "builtin" or the extension file. */
  origin: string;
  /** Methods; undefined when not known (an extension type found without reading its module). */
  methods?: Record<string, MethodInfo>;
  /** The schema of a definition's globalArguments (extension types). */
  globalArguments?: CompiledSchema;
  /** The schema of the inputs a step gives (an extension type's `inputsSchema`). */
  inputs?: CompiledSchema;
  /** What the extension module declares, when it was read. */
  extension?: ExtensionModelSchemas;
}

/** Model types that ship with swamp. */
export const builtinModelTypes: readonly ModelTypeInfo[] = [
  {
    type: "command/shell",
    origin: "builtin",
    methods: {
      execute: {
        arguments: ["run", "workingDir", "timeout", "env", "environment", "ignoreExitCode"],
        required: ["run"],
      },
    },
  },
];
