// The README's first command: makes a repository in a temporary directory and
// drives the real CLI through a run of a fan-out workflow with a dependent
// summary step, printing each command and its output as a user would see it.
const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
const launcher = `${root}cli/swamp`;

const workflow = `id: 3f1c2b7a-8d4e-4f5a-9b6c-1d2e3f4a5b6c
name: nightly-report
description: Collect figures from three regions in parallel, then summarise them
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
            run: |
              echo "fetching figures for \${{ self.region }} (item $SWAMP_ITEM_INDEX)"
              sleep 1
              echo "\${{ self.region }}: $((SWAMP_ITEM_INDEX * 7 + 3)) orders"
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
      run: echo "all regions collected for run $SWAMP_RUN_ID"
`;

async function swamp(cwd: string, ...args: string[]): Promise<number> {
  console.log(`\n$ swamp ${args.join(" ")}`);
  const child = new Deno.Command(launcher, { args, cwd, stdout: "inherit", stderr: "inherit" });
  return (await child.output()).code;
}

async function latestRunId(cwd: string): Promise<string> {
  const child = new Deno.Command(launcher, {
    args: ["workflow", "list", "--limit", "1", "--json"],
    cwd,
    stdout: "piped",
  });
  const listing = JSON.parse(new TextDecoder().decode((await child.output()).stdout));
  return String(listing.runs?.[0]?.id ?? "").slice(0, 8);
}

const dir = await Deno.makeTempDir({ prefix: "swamp-demo-" });
let failures = 0;
const expect = (what: string, ok: boolean) => {
  if (!ok) {
    console.error(`demo: expected ${what}`);
    failures++;
  }
};
try {
  const repo = `${dir}/ops`;
  expect("repo init to succeed", (await swamp(dir, "repo", "init", "ops")) === 0);
  await Deno.writeTextFile(`${repo}/workflows/workflow-nightly-report.yaml`, workflow);
  await Deno.mkdir(`${repo}/models/command/shell`, { recursive: true });
  await Deno.writeTextFile(`${repo}/models/command/shell/summariser.yaml`, summariser);
  console.log(
    "\n(wrote workflows/workflow-nightly-report.yaml and models/command/shell/summariser.yaml)",
  );
  expect("the workflow to validate", (await swamp(repo, "workflow", "validate", "--all")) === 0);
  expect("the run to succeed", (await swamp(repo, "workflow", "run", "nightly-report")) === 0);
  const runId = await latestRunId(repo);
  expect("the run's status", (await swamp(repo, "workflow", "status", runId)) === 0);
  expect(
    "the run's log",
    (await swamp(repo, "workflow", "logs", runId, "--step", "report/summarise")) === 0,
  );
  expect("the run listing", (await swamp(repo, "workflow", "list")) === 0);
  Deno.exitCode = failures === 0 ? 0 : 1;
} finally {
  await Deno.remove(dir, { recursive: true });
}
