import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { IdSource } from "../ports/ids.ts";
import { writeNew } from "../repo/init.ts";
import { workflowsDir } from "./catalog.ts";

const namePattern = /^[a-z0-9][a-z0-9-]*$/;

/** The file a new workflow called `name` is written to. */
export function workflowFileFor(name: string): string {
  return `${workflowsDir}/workflow-${name}.yaml`;
}

export function checkWorkflowName(name: string): void {
  if (!namePattern.test(name) || name.length > 64) {
    throw new SwampError(ErrorCode.USAGE, `\`${name}\` is not a valid workflow name`, {
      hint:
        "use lower-case letters, digits and dashes, starting with a letter or digit, at most 64 characters",
    });
  }
}

/** A minimal workflow that validates and runs: one job, one shell step. */
export function workflowSkeleton(name: string, description: string, ids: IdSource): string {
  const about = description || `What ${name} does`;
  return [
    `id: ${ids.uuid()}`,
    `name: ${name}`,
    `description: ${JSON.stringify(about)}`,
    "version: 1",
    "jobs:",
    "  - name: main",
    "    steps:",
    "      - name: hello",
    "        task:",
    "          type: model_method",
    "          modelType: command/shell",
    "          modelName: hello",
    "          methodName: execute",
    "          inputs:",
    `            run: echo "hello from ${name}"`,
    "",
  ].join("\n");
}

export async function createWorkflowFile(
  root: string,
  name: string,
  description: string,
  ids: IdSource,
): Promise<{ file: string; text: string }> {
  checkWorkflowName(name);
  const file = workflowFileFor(name);
  const text = workflowSkeleton(name, description, ids);
  await Deno.mkdir(`${root}/${workflowsDir}`, { recursive: true });
  try {
    await writeNew(`${root}/${file}`, text);
  } catch (error) {
    if (error instanceof SwampError && error.code === ErrorCode.ALREADY_EXISTS) {
      throw new SwampError(
        ErrorCode.ALREADY_EXISTS,
        `workflow \`${name}\` already exists (${file})`,
        {
          hint: "choose another name, or edit the existing file",
        },
      );
    }
    throw error;
  }
  return { file, text };
}
