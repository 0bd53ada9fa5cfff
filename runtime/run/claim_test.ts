import { create } from "@bufbuild/protobuf";
import { HeartbeatSchema, RunStatusChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { assertEquals, assertRejects } from "../../test/helpers/assert.ts";
import { storeNewRun, tempFileStore } from "../../test/helpers/stores.ts";
import { bootId, hostName, processStartTime } from "../host/mod.ts";
import { systemClock } from "../ports/clock.ts";
import type { RunStore } from "../ports/store.ts";
import { claimRun, type OwnerIdentity } from "./claim.ts";
import { OwnershipLost } from "./fencing.ts";
import { RunJournal } from "./journal.ts";
import { RunStatus } from "./status.ts";

const pendingRun = (store: RunStore) => storeNewRun(store, { status: RunStatus.PENDING });

async function identityOf(pid: number, server = ""): Promise<OwnerIdentity> {
  return {
    host: hostName(),
    bootId: await bootId(),
    pid,
    processStart: (await processStartTime(pid)) ?? "",
    server,
  };
}

const open = (store: RunStore, id: string) => RunJournal.open(store, id, systemClock, "system");

Deno.test("a claim raises the epoch; a live owner with another identity keeps the run", async () => {
  await using temp = await tempFileStore();
  const id = await pendingRun(temp.store);
  const other = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const first = await open(temp.store, id);
    assertEquals(await claimRun(first, await identityOf(other.pid), systemClock, "t"), true);
    assertEquals([first.ownerEpoch, first.run.owner?.epoch], [1n, 1n]);
    // This process is not that one, even on the same host: refused while it lives.
    const me = await identityOf(Deno.pid);
    const second = await open(temp.store, id);
    assertEquals(await claimRun(second, me, systemClock, "t"), false);
    assertEquals(second.ownerEpoch, 0n);
    other.kill("SIGKILL");
    await other.status;
    // Once it is gone the run can be taken over, and its old journal is fenced off.
    assertEquals(await claimRun(second, me, systemClock, "t"), true);
    assertEquals([second.ownerEpoch, second.run.owner?.pid], [2n, Deno.pid]);
    await first.refresh();
    await assertRejects(
      () => first.append({ payload: { case: "heartbeat", value: create(HeartbeatSchema, {}) } }),
      (error) => error instanceof OwnershipLost,
    );
  } finally {
    try {
      other.kill("SIGKILL");
    } catch { /* already gone */ }
    await other.status;
  }
});

Deno.test("one server process owns many runs; another server instance is another owner", async () => {
  await using temp = await tempFileStore();
  const serverA = await identityOf(Deno.pid, "server-a");
  const runs = [await pendingRun(temp.store), await pendingRun(temp.store)];
  for (const id of runs) {
    assertEquals(await claimRun(await open(temp.store, id), serverA, systemClock, "t"), true);
  }
  // The same instance claims again (a restart of the run in it); another one may not.
  const again = await open(temp.store, runs[0]);
  assertEquals(await claimRun(again, serverA, systemClock, "t"), true);
  assertEquals(again.run.owner?.epoch, 2n);
  const serverB = await identityOf(Deno.pid, "server-b");
  assertEquals(await claimRun(await open(temp.store, runs[1]), serverB, systemClock, "t"), false);
  assertEquals((await open(temp.store, runs[1])).run.owner?.server, "server-a");
});

Deno.test("a settled run is never claimed", async () => {
  await using temp = await tempFileStore();
  const id = await pendingRun(temp.store);
  const journal = await open(temp.store, id);
  await journal.append({
    payload: {
      case: "runStatusChanged",
      value: create(RunStatusChangedSchema, { from: RunStatus.PENDING, to: RunStatus.CANCELLED }),
    },
  });
  assertEquals(await claimRun(journal, await identityOf(Deno.pid), systemClock, "t"), false);
});
