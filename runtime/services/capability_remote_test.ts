// A placed step's capability credential: accepted only with an active lease of
// its own step, so a worker that lost the step (its lease released when the
// step was sent elsewhere) can neither read nor write for it any more. A real
// file store holds the leases and the data.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { assertEquals } from "../../test/helpers/assert.ts";
import { tempFileStore } from "../../test/helpers/stores.ts";
import { SwampError } from "../errors/mod.ts";
import type { ExtensionCall } from "../ports/extension_methods.ts";
import { CapabilityGrants, capabilityService } from "./capability.ts";
import { collectBundle } from "./extension_bundle.ts";
import { sha256Hex } from "../text/hash.ts";

const call: ExtensionCall = {
  runId: "run-1",
  stepId: "create",
  attempt: 1,
  repoRoot: "/nowhere",
  module: "extensions/models/bucket.ts",
  definition: { id: "d", name: "logs", version: "1", type: "@acme/bucket" },
  methodName: "create",
  globalArgs: {},
  args: {},
  resourceSpecs: ["bucket"],
  secrets: [],
  remote: true,
};

const denied = async (what: Promise<unknown>, pattern: RegExp) => {
  let error: unknown;
  try {
    await what;
  } catch (caught) {
    error = caught;
  }
  assertEquals(error instanceof SwampError, true, `expected a refusal, got ${error}`);
  assertEquals((error as SwampError).codeName, "permission_denied");
  assertEquals(pattern.test((error as SwampError).message), true, (error as SwampError).message);
};

Deno.test("capability: a placed step's calls need an active lease of that step; a lost worker's are refused", async () => {
  await using temp = await tempFileStore();
  const { store } = temp;
  const repo = await Deno.makeTempDir({ prefix: "swamp-bundle-" });
  try {
    await Deno.mkdir(`${repo}/extensions/models`, { recursive: true });
    await Deno.writeTextFile(`${repo}/extensions/models/bucket.ts`, "export const model = {};\n");
    const bundle = await collectBundle(repo);
    const grants = new CapabilityGrants();
    const service = capabilityService({ grants, data: store, leases: store });
    const { credential } = await grants.issue(call, undefined, { bundle });
    const write = (leaseId: string, arn = "a") =>
      service.writeResource({
        credential,
        leaseId,
        spec: "bucket",
        name: "main",
        attributes: fromJson(ValueSchema, { arn }),
        tags: {},
      } as never);

    await denied(service.getContext({ credential } as never), /must name its step lease/);
    const now = new Date();
    const expireTime = new Date(now.getTime() + 60_000);
    const first = await store.acquireLease({
      runId: "run-1",
      stepId: "create",
      attempt: 1,
      workerId: "w-1",
      now,
      expireTime,
    });
    const other = await store.acquireLease({
      runId: "run-1",
      stepId: "show",
      attempt: 1,
      workerId: "w-1",
      now,
      expireTime,
    });
    assertEquals(
      (await service.getContext({ credential, leaseId: first.id } as never)).stepId,
      "create",
    );
    await denied(
      service.getContext({ credential, leaseId: other.id } as never),
      /not an active lease of step create/,
    );
    await denied(
      service.getContext({ credential, leaseId: "no-such-lease" } as never),
      /not an active lease/,
    );

    // The step's bundle, by its fingerprint only.
    const got = await service.getBundle(
      { credential, leaseId: first.id, fingerprint: bundle.fingerprint } as never,
    );
    assertEquals(got.files.map((f) => f.path), ["extensions/models/bucket.ts"]);
    await denied(
      service.getBundle(
        { credential, leaseId: first.id, fingerprint: `sha256:${"0".repeat(64)}` } as never,
      ),
      /no extension bundle/,
    );

    // A write names the lease it ran under and marks it written (the write-then-fail rule).
    assertEquals((await write(first.id)).version, 1n);
    assertEquals((await store.getLease(first.id))?.hasWritten, true);
    assertEquals((await store.getData("logs", "main"))?.leaseId, first.id);

    // The worker is lost: its lease released, the step sent to another worker (attempt 2).
    await store.releaseLease(first.id);
    const second = await store.acquireLease({
      runId: "run-1",
      stepId: "create",
      attempt: 2,
      workerId: "w-2",
      now,
      expireTime,
    });
    await denied(write(first.id), /not an active lease of step create/);
    assertEquals((await store.getData("logs", "main"))?.version, 1);
    assertEquals((await write(second.id, "b")).version, 2n);

    await grants.revoke(credential);
    await denied(write(second.id), /not valid/);
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("capability: an adopted placed step's credential acts under the adopting grant, with its lease, until that grant ends", async () => {
  await using temp = await tempFileStore();
  const { store } = temp;
  const grants = new CapabilityGrants();
  const service = capabilityService({ grants, data: store, leases: store });
  const bundle = { fingerprint: "f", files: [] };
  // What the dead owner issued: the worker holds it; the run's record holds its hash only.
  const held = "swcap_issued_by_the_dead_owner";
  const { credential } = await grants.issue(call, undefined, { bundle });
  const now = new Date();
  const lease = await store.acquireLease({
    runId: "run-1",
    stepId: "create",
    attempt: 1,
    workerId: "w-1",
    now,
    expireTime: new Date(now.getTime() + 60_000),
  });
  const write = (name: string) =>
    service.writeResource({
      credential: held,
      leaseId: lease.id,
      spec: "bucket",
      name,
      attributes: fromJson(ValueSchema, { n: 1 }),
      tags: {},
    } as never);

  await denied(write("before"), /not valid/);
  await grants.adopt(credential, await sha256Hex(held));
  const written = await write("after");
  assertEquals(written.name, "after");
  assertEquals((await store.getLease(lease.id))?.hasWritten, true);
  // Only with an active lease of that step.
  await denied(
    service.getContext({ credential: held, leaseId: "run-1/other#1.x" } as never),
    /not an active lease/,
  );
  // A local (not placed) grant adopts nothing.
  const local = await grants.issue({ ...call, remote: false });
  await grants.adopt(local.credential, await sha256Hex("swcap_other"));
  await denied(service.getContext({ credential: "swcap_other" } as never), /not valid/);
  // Ending the adopting grant ends the adopted credential too.
  await grants.revoke(credential);
  await denied(write("late"), /not valid/);
  assertEquals(grants.size, 1);
});
