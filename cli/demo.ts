// The README's first command: creates a repository in a temporary directory,
// writes a workflow with a fan-out and a dependent step, and drives the real
// CLI through it as a user would, printing each command and its output.
const root = new URL("..", import.meta.url).pathname;
const launcher = `${root}cli/swamp`;

const workflow = `id: 3f1c2b7a-8d4e-4f5a-9b6c-1d2e3f4a5b6c
name: nightly-report
description: Collect figures from three regions, then summarise them
inputs:
  properties:
    regions: {type: array, default: [eu, us, ap]}
jobs:
  - name: collect
    steps:
      - name: fetch-\${{ self.region }}
        forEach: {item: region, in: "\${{ inputs.regions }}"}
        task:
          type: model_method
          modelType: command/shell
          modelName: fetch
          methodName: execute
          inputs:
            run: echo "figures for \${{ self.region }}"
  - name: report
    dependsOn:
      - job: collect
        condition: {type: succeeded}
    steps:
      - name: summarise
        task: {type: model_method, modelIdOrName: summariser, methodName: execute}
`;

const summariser = `id: 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
name: summariser
version: 1
methods:
  execute:
    arguments:
      run: echo "3 regions collected"
`;

async function swamp(cwd: string, ...args: string[]): Promise<number> {
  console.log(`\n$ swamp ${args.join(" ")}`);
  const child = new Deno.Command(launcher, { args, cwd, stdout: "inherit", stderr: "inherit" });
  return (await child.output()).code;
}

const dir = await Deno.makeTempDir({ prefix: "swamp-demo-" });
try {
  const repo = `${dir}/ops`;
  let failures = 0;
  failures += await swamp(dir, "repo", "init", "ops");
  await Deno.writeTextFile(`${repo}/workflows/workflow-nightly-report.yaml`, workflow);
  await Deno.mkdir(`${repo}/models/command/shell`, { recursive: true });
  await Deno.writeTextFile(`${repo}/models/command/shell/summariser.yaml`, summariser);
  console.log(
    "\n(wrote workflows/workflow-nightly-report.yaml and models/command/shell/summariser.yaml)",
  );
  failures += await swamp(repo, "workflow", "validate", "--all");
  failures += await swamp(repo, "workflow", "get", "nightly-report");

  console.log("\n(now a typo: `dependOn` instead of `dependsOn`, and a model that does not exist)");
  await Deno.writeTextFile(
    `${repo}/workflows/workflow-nightly-report.yaml`,
    workflow.replace("    dependsOn:", "    dependOn:").replace(
      "summariser, methodName",
      "sumariser, methodName",
    ),
  );
  const broken = await swamp(repo, "workflow", "validate", "nightly-report");
  if (broken !== 3) {
    console.error(`expected exit status 3 for the broken workflow, got ${broken}`);
    failures++;
  }
  console.log(
    "\nRunning workflows (`swamp workflow run`) arrives with the durable run engine; see CHANGELOG.md.",
  );
  Deno.exitCode = failures === 0 ? 0 : 1;
} finally {
  await Deno.remove(dir, { recursive: true });
}
