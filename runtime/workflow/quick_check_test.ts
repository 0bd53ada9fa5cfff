// The compiled quick check may only ever accept what the full schema accepts;
// and it must accept ordinary valid workflows, or it saves nothing.
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { seeded } from "../../test/helpers/random.ts";
import { quickAccept } from "./quick_check.ts";
import { workflow as fullSchema } from "./schema.ts";

const not = (condition: unknown) => ({ type: "not", condition });
const and = (...conditions: unknown[]) => ({ type: "and", conditions });

/** A valid workflow that uses most of the schema. */
function richWorkflow(): Record<string, unknown> {
  return {
    id: "0f0c1d2e-0000-4000-8000-000000000001",
    name: "rich",
    description: "every kind of value",
    version: 2,
    inputs: { type: "object", properties: { env: { type: "string" } }, required: ["env"] },
    tags: { team: "ops" },
    concurrency: 2,
    locks: ["deploys"],
    reads: { env: ["HOME_REGION"] },
    executor: { type: "docker", image: "busybox", memory: "64m", network: "none" },
    labels: { region: "eu" },
    jobs: [
      {
        name: "build",
        steps: [
          {
            name: "compile",
            task: {
              type: "model_method",
              modelType: "command/shell",
              modelName: "shell",
              methodName: "execute",
              inputs: { run: "make" },
            },
            timeout: "5m",
            guard: "${{ inputs.env == 'prod' }}",
            forEach: { item: "host", in: ["a", "b"] },
            executor: { type: "loopback" },
          },
          {
            name: "gate",
            dependsOn: [{
              step: "compile",
              condition: and(not({ type: "failed" }), { type: "always" }),
            }],
            task: { type: "manual_approval", prompt: "ship?", timeout: 60, onTimeout: "reject" },
          },
          {
            name: "check",
            dependsOn: [{
              step: "gate",
              condition: {
                type: "or",
                conditions: [not(not({ type: "skipped" })), { type: "completed" }],
              },
            }],
            task: { type: "assert", expr: "true", message: "fine", severity: "low" },
            allowFailure: true,
          },
        ],
      },
      {
        name: "deploy",
        dependsOn: [{ job: "build", condition: { type: "succeeded" } }],
        steps: [{
          name: "call",
          task: { type: "workflow", workflowIdOrName: "other", inputs: "${{ inputs }}" },
        }],
      },
    ],
  };
}

Deno.test("quick check: accepts a valid workflow, and only what the full schema accepts", () => {
  const valid = richWorkflow();
  assert(fullSchema.safeParse(valid).success);
  // Callers take the quick check's data as the workflow, so it must be the full schema's.
  assertEquals(quickAccept(valid, 0), fullSchema.parse(valid));
  // Nested past the compiled depth: left to the full schema, which accepts it.
  const deep = richWorkflow();
  const steps = (deep.jobs as { steps: { dependsOn?: unknown[] }[] }[])[0].steps;
  steps[1].dependsOn = [{ step: "compile", condition: not(not(not(not({ type: "always" })))) }];
  assertEquals([quickAccept(deep, 0), fullSchema.safeParse(deep).success], [undefined, true]);
});

Deno.test("quick check: small workflows are left to the full schema", () => {
  assertEquals(quickAccept(richWorkflow()), undefined);
});

Deno.test("quick check: random damage is never accepted when the full schema refuses it", () => {
  const random = seeded(7);
  const replacements: unknown[] = [
    undefined,
    null,
    "",
    "x",
    0,
    -1,
    1.5,
    true,
    [],
    {},
    [{}],
    { type: "bogus" },
    { typo: 1 },
    "5x",
    "not-a-uuid",
    [1, 2],
    { type: "not" },
    { type: "and", conditions: [{ type: "always" }] },
  ];
  let refused = 0;
  let accepted = 0;
  for (let n = 0; n < 1500; n++) {
    const doc = richWorkflow();
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) damage(doc, random, replacements);
    const full = fullSchema.safeParse(doc).success;
    const quick = quickAccept(doc, 0);
    if (quick) {
      assert(full, `the quick check accepted what the full schema refuses: ${JSON.stringify(doc)}`);
      accepted++;
    }
    if (!full) refused++;
  }
  console.log(`  ${refused} damaged documents refused, ${accepted} accepted by the quick check`);
  assert(refused > 500 && accepted > 50, `refused ${refused}, accepted ${accepted}`);
});

/** Replaces, deletes or adds one value somewhere in `doc`. */
function damage(doc: unknown, random: () => number, replacements: unknown[]): void {
  type Container = Record<string | number, unknown>;
  const containers: [Container, string | number][] = [];
  const walk = (node: unknown) => {
    if (node === null || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      containers.push([node as Container, Array.isArray(node) ? Number(key) : key]);
      walk(value);
    }
  };
  walk(doc);
  const [parent, key] = containers[Math.floor(random() * containers.length)];
  const value = replacements[Math.floor(random() * replacements.length)];
  if (random() < 0.15 && !Array.isArray(parent)) parent[`${key}x`] = value;
  else if (value === undefined && !Array.isArray(parent)) delete parent[key];
  else parent[key] = structuredClone(value);
}
