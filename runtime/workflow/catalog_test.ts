import { assertEquals, makeTempRepo } from "../../test/helpers/mod.ts";
import { WorkflowCatalog } from "./catalog.ts";

Deno.test("workflows are found by name and id however their header is written", async () => {
  await using repo = await makeTempRepo({
    "workflows/plain.yaml":
      "id: 11111111-1111-4111-8111-111111111111\nname: plain # note\njobs: []\n",
    "workflows/quoted.yaml": "name: \"@acme/quoted\"\nid: '22222222-2222-4222-8222-222222222222'\n",
    "workflows/flow.yaml": "{id: 33333333-3333-4333-8333-333333333333, name: flow, jobs: []}\n",
    "workflows/anchored.yaml": "name: &n anchored\nid: 44444444-4444-4444-8444-444444444444\n",
    "workflows/nested.yaml": "jobs:\n  - name: not-the-workflow\n",
  });
  const catalog = await WorkflowCatalog.load(repo.root);
  assertEquals(catalog.resolve("plain"), "plain");
  assertEquals(catalog.resolve("22222222-2222-4222-8222-222222222222"), "@acme/quoted");
  assertEquals(catalog.resolve("flow"), "flow");
  assertEquals(catalog.resolve("44444444-4444-4444-8444-444444444444"), "anchored");
  assertEquals(catalog.resolve("not-the-workflow"), undefined);
  assertEquals(catalog.names().sort(), ["@acme/quoted", "anchored", "flow", "plain"]);
});
