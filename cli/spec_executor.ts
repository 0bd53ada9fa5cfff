// `executor list` and `executor test` in the command table.
import type { CommandSpec } from "./types.ts";

const executorJson =
  `{"name": "nice", "origin": "extension", "path": "extensions/executors/nice.ts", "apiVersion": 1, "features": {"streamsLogs": true, "canCancel": true, "resourceLimits": false}, "default": false, "runsOnWorkers": false, "settings": true}`;

export const executorCommands: CommandSpec[] = [
  {
    noun: "executor",
    verb: "list",
    summary: "list the executors steps can run with: built in and the repository's extensions",
    description:
      "Lists every executor this CLI registers, in one registry: the built-in ones (loopback, the default for a step with no `executor:` block, and docker) and, inside a repository, the modules in extensions/executors/, each loaded as it would be for a run. For each: its name (what `executor: {type: NAME}` names), where it comes from (builtin, or extension with its path), the executor API version it declares, its features (streamsLogs, canCancel, resourceLimits), whether it is the default, whether a worker can offer it, and whether it takes an `executor:` block. The remote executor exists only inside `swamp serve` (it places steps on workers) and is not listed. A module that cannot be loaded is an executor_load_failed error naming it; one of an unsupported version, executor_api_unsupported.",
    args: [],
    flags: [],
    examples: ["swamp executor list", "swamp executor list --json", "swamp executor list -q"],
    json: `{"executors": [${executorJson}]}`,
    load: () => import("./commands/executor_list.ts"),
  },
  {
    noun: "executor",
    verb: "test",
    summary: "run the executor contract against an executor module and print which promises hold",
    description:
      "Loads the executor module at PATH (its default export: an executor, or a function of the executor API that returns one), checks it as the registry would (API version, name, features, settings schema), then runs every promise of the executor contract against it with real processes: the same suite swamp's own executors pass. Each promise is printed as it ends: passed, failed with the reason, or not applicable with the reason (a feature the executor declares it lacks, or processes this suite cannot see). Exits 0 when no promise failed, 1 (executor_contract_failed) when any did; a module that cannot be loaded is executor_load_failed (3). The executor runs in this process, with its permissions: test only code you trust.",
    args: [{ name: "PATH", required: true, description: "the executor module (.ts or .js)" }],
    flags: [],
    examples: [
      "swamp executor test ./extensions/executors/nice.ts",
      "swamp executor test ./my_executor.ts --json",
    ],
    json:
      `{"executor": ${executorJson}, "promises": [{"promise": "started comes first, exited last, with the exit code", "result": "passed", "durationMs": 320}, {"promise": "a step over its memory limit is reported as out of memory", "result": "not_applicable", "reason": "the executor declares it lacks resourceLimits (features.resourceLimits is false)", "durationMs": 0}], "passed": 17, "failed": 0, "notApplicable": 2}`,
    load: () => import("./commands/executor_test.ts"),
  },
];
