/** What validation needs to know about a model type's methods. */
export interface MethodInfo {
  /** Argument names the method accepts; undefined when not known statically. */
  arguments?: readonly string[];
  /** Arguments that must be given, by the definition or by the step. */
  required?: readonly string[];
}

export interface ModelTypeInfo {
  type: string;
  /** Where the type comes from: "builtin" or the extension file. */
  origin: string;
  /** Method names; undefined when not known statically (extensions). */
  methods?: Record<string, MethodInfo>;
}

/** Model types that ship with swamp. */
export const builtinModelTypes: readonly ModelTypeInfo[] = [
  {
    type: "command/shell",
    origin: "builtin",
    methods: {
      execute: {
        arguments: ["run", "workingDir", "timeout", "env", "ignoreExitCode"],
        required: ["run"],
      },
    },
  },
];
