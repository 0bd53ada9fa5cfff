import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OwnerSchema, RunSchema, RunStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import { assertEquals } from "../../test/helpers/mod.ts";
import { bootId, hostName, processStartTime } from "../host/mod.ts";
import { systemClock } from "../ports/clock.ts";
import { heartbeatTtlMs, judgeOwner } from "./liveness.ts";

async function runOwnedBy(
  owner: {
    host?: string;
    bootId?: string;
    pid?: number;
    processStart?: string;
    heartbeatTime?: Timestamp;
  },
) {
  return create(RunSchema, {
    id: "r",
    status: RunStatus.RUNNING,
    createTime: timestampFromDate(new Date()),
    owner: create(OwnerSchema, { host: hostName(), bootId: await bootId(), ...owner }),
  });
}

Deno.test("an owner is alive only if its pid still belongs to the process that started then", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const start = (await processStartTime(child.pid))!;
    assertEquals(
      await judgeOwner(await runOwnedBy({ pid: child.pid, processStart: start }), systemClock),
      {
        alive: true,
      },
    );
    // The same pid with another start time is a different process: the owner is gone.
    const reused = await runOwnedBy({ pid: child.pid, processStart: String(Number(start) - 5) });
    assertEquals(await judgeOwner(reused, systemClock), {
      alive: false,
      reason: "owner-process-not-alive",
    });
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  const gone = await runOwnedBy({ pid: child.pid, processStart: "1" });
  assertEquals(await judgeOwner(gone, systemClock), {
    alive: false,
    reason: "owner-process-not-alive",
  });
});

Deno.test("another host's owner is judged by its heartbeat", async () => {
  const fresh = await runOwnedBy({
    host: "elsewhere",
    pid: 1,
    heartbeatTime: timestampFromDate(new Date()),
  });
  assertEquals(await judgeOwner(fresh, systemClock), { alive: true });
  const stale = await runOwnedBy({
    host: "elsewhere",
    pid: 1,
    heartbeatTime: timestampFromDate(new Date(Date.now() - heartbeatTtlMs - 1000)),
  });
  assertEquals(await judgeOwner(stale, systemClock), {
    alive: false,
    reason: "owner-heartbeat-expired",
  });
});

Deno.test("a run on a host that rebooted since is abandoned", async () => {
  const run = await runOwnedBy({ pid: Deno.pid, bootId: "an-earlier-boot" });
  assertEquals(await judgeOwner(run, systemClock), {
    alive: false,
    reason: "owner-host-restarted",
  });
});
