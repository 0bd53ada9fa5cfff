// The sandboxed import, with real Deno subprocesses and real modules.
import { assert, assertEquals, assertMatch } from "../../../test/helpers/assert.ts";
import { createDenoExtensionInspector } from "./mod.ts";

const zodDir = Deno.realPathSync(new URL("../../../node_modules/zod", import.meta.url).pathname);

async function inspectModule(text: string, options: { memoryMb?: number } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "swamp-ext-" });
  try {
    await Deno.writeTextFile(`${dir}/module.ts`, text);
    const inspector = createDenoExtensionInspector({ zodDir, timeoutMs: 10_000, ...options });
    return await inspector.inspect(`${dir}/module.ts`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a module's model comes back as JSON Schemas; what it prints is ignored; execute never runs", async () => {
  const result = await inspectModule(`import { z } from "npm:zod@4";
console.log("noise from the module");
export const model = {
  type: "@t/thing",
  version: 3,
  globalArguments: z.object({ name: z.string(), count: z.number().int().default(1) }),
  inputsSchema: z.object({ env: z.enum(["dev", "prod"]) }),
  resources: { state: { description: "its state", schema: z.object({ id: z.string() }), lifetime: "infinite" } },
  files: { log: { contentType: "text/plain" } },
  methods: {
    create: { description: "makes it", arguments: z.object({ size: z.string() }), execute: () => { throw new Error("ran"); } },
    list: { description: "lists", execute: () => ({}) },
  },
};
`);
  assert(result.model, JSON.stringify(result.problem));
  const model = result.model;
  assertEquals(model.type, "@t/thing");
  assertEquals(model.version, "3");
  assertEquals(model.globalArguments?.required, ["name"]);
  assertEquals(Object.keys(model.globalArguments?.properties as object), ["name", "count"]);
  assertEquals((model.inputs?.properties as { env: { enum: string[] } }).env.enum, ["dev", "prod"]);
  assertEquals(model.methods.create.description, "makes it");
  assertEquals(model.methods.create.arguments?.required, ["size"]);
  assertEquals(model.methods.list, { description: "lists" });
  assertEquals(model.resources.map((r) => [r.name, r.description, r.schema?.required]), [
    ["state", "its state", ["id"]],
  ]);
  assertEquals(model.files, ["log"]);
});

Deno.test("environment, writes, subprocesses and reads outside the folder are denied at import", async () => {
  for (
    const [code, what] of [
      [`Deno.env.get("HOME");`, /env access/],
      [`Deno.writeTextFileSync("/tmp/swamp-ext-should-not-exist", "x");`, /write access/],
      [`new Deno.Command("true").outputSync();`, /run access/],
      [`Deno.readTextFileSync("/etc/hostname");`, /read access/],
    ] as const
  ) {
    const result = await inspectModule(`${code}\nexport const model = { type: "x/y" };\n`);
    assertEquals(result.problem?.rule, "extension-permission-denied", code);
    assertMatch(result.problem!.message, what);
    assertEquals(result.problem!.transient, undefined);
  }
});

Deno.test("a module that exhausts its memory limit is stopped and reported, not cached", async () => {
  const result = await inspectModule(
    `const keep = [];\nwhile (true) keep.push(new Array(100000).fill({ a: Math.random() }));\nexport const model = {};\n`,
    { memoryMb: 48 },
  );
  assertEquals(result.problem?.rule, "extension-out-of-memory", JSON.stringify(result.problem));
  assertEquals(result.problem?.transient, true);
});

Deno.test("a model without a type, or with a field that is not a zod schema, is not a model type", async () => {
  const untyped = await inspectModule(`export const model = { methods: {} };\n`);
  assertEquals(untyped.problem?.rule, "extension-invalid-model");
  assertMatch(untyped.problem!.message, /no `type` string/);
  const plain = await inspectModule(
    `export const model = { type: "a/b", globalArguments: { name: "string" } };\n`,
  );
  assertEquals(plain.problem?.rule, "extension-invalid-model");
  assertMatch(plain.problem!.message, /globalArguments is not a zod schema/);
  const none = await inspectModule(`export const helper = 1;\n`);
  assertEquals(none.problem?.rule, "extension-no-model");
  assertEquals(none.problem?.severity, "warning");
});
