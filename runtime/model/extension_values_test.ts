import { assertEquals } from "../../test/helpers/assert.ts";
import { checkAgainstSchema } from "./extension_values.ts";
import { definitionId } from "./definition_id.ts";
import { modelDefinition } from "./schema.ts";

// As zod 4's z.toJSONSchema writes z.object({ size: z.enum(...), tags: z.record(...), n: z.int().optional() }).
const schema = {
  type: "object",
  properties: {
    size: { type: "string", enum: ["s", "m"] },
    tags: {
      type: "object",
      propertyNames: { type: "string" },
      additionalProperties: { type: "string" },
    },
    n: { type: "integer" },
  },
  required: ["size"],
};

const codes = async (value: unknown, partial = false) =>
  (await checkAgainstSchema(schema, value, { partial })).map((i) =>
    `${i.code}@${i.path.join(".")}`
  );

Deno.test("values are checked against a JSON Schema; unknown keys of a z.object are problems", async () => {
  assertEquals(await codes({ size: "s", tags: { a: "b" }, n: 2 }), []);
  assertEquals(await codes({ size: "x", n: 1.5, sise: "s" }), [
    "invalid_value@size",
    "invalid_type@n",
    "unrecognized_keys@",
  ]);
  // A record keeps its own rule for other keys.
  assertEquals(await codes({ size: "s", tags: { any: "thing" } }), []);
});

Deno.test("values holding ${{ }} are not checked; partial values may lack required keys", async () => {
  assertEquals(await codes({ size: "${{ inputs.size }}", n: "${{ inputs.n }}" }), []);
  assertEquals(await codes("${{ inputs.all }}"), []);
  assertEquals(await codes({ tags: { a: "${{ env.X }}" } }), ["invalid_type@size"]);
  assertEquals(await codes({ tags: {} }, true), []);
  assertEquals(await codes({ size: 3 }, true), ["invalid_value@size"]);
});

Deno.test("a definition without an id gets a stable UUID made from its path", async () => {
  const a = await definitionId("models/command/shell/a.yaml");
  assertEquals(a, await definitionId("models/command/shell/a.yaml"));
  assertEquals(a === await definitionId("models/command/shell/b.yaml"), false);
  assertEquals(a[14], "8");
  assertEquals(modelDefinition.safeParse({ id: a, name: "a", version: 1 }).success, true);
});
