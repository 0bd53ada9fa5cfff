// The capability service as an extension method reaches it: a real loopback
// server, real HTTP requests in Connect's JSON protocol, a real (memory) store.
import { assert, assertEquals, assertMatch } from "../test/helpers/mod.ts";
import { openMemoryStore } from "../plugins/stores/memory/mod.ts";
import { localExtensionMethods } from "./extension_methods.ts";
import { zodDir } from "./wiring.ts";
import type { ExtensionCall } from "../runtime/mod.ts";

const call = (over: Partial<ExtensionCall> = {}): ExtensionCall => ({
  runId: "run-a",
  stepId: "make",
  attempt: 1,
  repoRoot: "/nowhere",
  module: "extensions/models/bucket.ts",
  definition: { id: "id-1", name: "logs", version: "1", type: "@acme/bucket" },
  methodName: "create",
  globalArgs: { region: "eu-west-1" },
  args: { size: "small" },
  resourceSpecs: ["bucket"],
  secrets: ["prod/db"],
  ...over,
});

async function rpc(env: Record<string, string>, method: string, body: object = {}) {
  const response = await fetch(`${env.SWAMP_CAPABILITY_URL}/swamp.v1.CapabilityService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ credential: env.SWAMP_CAPABILITY_TOKEN, ...body }),
  });
  return { status: response.status, json: await response.json() };
}

Deno.test("a step's credential reaches its context, its declared specs and its own run's data, and nothing else", async () => {
  const store = await openMemoryStore();
  const runner = localExtensionMethods({ data: store, leases: store, zodDir: zodDir() });
  const a = await runner.prepare(call());
  // The command reaches only the capability service's loopback port.
  const net = a.argv.find((arg) => arg.startsWith("--allow-net="))!;
  assertEquals(net, `--allow-net=${new URL(a.env.SWAMP_CAPABILITY_URL).host}`);
  assert(!a.argv.some((arg) => arg === "--allow-all" || arg.startsWith("--allow-write")));

  const context = await rpc(a.env, "GetContext");
  assertEquals(context.status, 200);
  assertEquals(context.json.definitionName, "logs");
  assertEquals(context.json.globalArgs, { region: "eu-west-1" });
  assertEquals(context.json.methodArgs, { size: "small" });

  const written = await rpc(a.env, "WriteResource", {
    spec: "bucket",
    name: "main",
    attributes: { arn: "x" },
  });
  assertEquals(written.status, 200, JSON.stringify(written.json));
  assertEquals(written.json.version, "1");
  const undeclared = await rpc(a.env, "WriteResource", { spec: "disk", name: "d", attributes: 1 });
  assertEquals(undeclared.json.code, "permission_denied");
  assertMatch(undeclared.json.message, /resource spec `disk` is not declared/);
  const secret = await rpc(a.env, "GetSecret", { vault: "prod", key: "other" });
  assertEquals(secret.json.code, "permission_denied");
  assertMatch(secret.json.message, /secret prod\/other is not declared/);
  const read = await rpc(a.env, "ReadResource", { name: "main" });
  assertEquals(read.json.attributes, { arn: "x" });
  await rpc(a.env, "Finish", { result: { ok: true } });
  // The write is recorded on the step's lease (the write-then-fail rule reads it).
  const [lease] = await store.listLeases({ runId: "run-a" });
  assertEquals(lease.hasWritten, true);
  assertEquals(lease.state, "active");
  assertEquals((await store.getData("logs", "main"))?.leaseId, lease.id);
  const ended = await a.end();
  assertEquals((await store.getLease(lease.id))?.state, "released");
  assertEquals(ended.finished, true);
  assertEquals(ended.result, { ok: true });
  assertEquals(ended.writes.map((w) => `${w.name} v${w.version}`), ["main v1"]);

  // After its step ended, the credential is refused.
  const late = await rpc(a.env, "GetContext");
  assertEquals(late.json.code, "permission_denied");
  assertMatch(late.json.message, /step has ended/);
  assert(!late.json.message.includes(a.env.SWAMP_CAPABILITY_TOKEN));

  // Another run's step cannot read what run-a wrote.
  const b = await runner.prepare(call({ runId: "run-b" }));
  const other = await rpc(b.env, "ReadResource", { name: "main" });
  assertEquals(other.json.code, "permission_denied");
  assertMatch(other.json.message, /written by run run-a/);
  await b.end();

  // A made-up credential is refused the same way.
  const forged = await rpc({ ...b.env, SWAMP_CAPABILITY_TOKEN: "swcap_00" }, "GetContext");
  assertEquals(forged.json.code, "permission_denied");
});
