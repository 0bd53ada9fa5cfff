// Which promises apply to which executor, and that a container step's pids
// are never taken for this host's processes.
import { assertEquals, assertMatch } from "../../test/helpers/assert.ts";
import { contractCases, notApplicable, type Profile } from "./cases.ts";
import { Tracker } from "./harness.ts";

const all = { streamsLogs: true, canCancel: true, resourceLimits: true };
const skipped = (profile: Profile) =>
  contractCases.filter((c) => notApplicable(c, profile) !== undefined).map((c) => c.title);

Deno.test({
  name: "every promise applies to a full-featured host executor on Linux",
  ignore: Deno.build.os !== "linux",
  fn() {
    assertEquals(skipped({ features: all, hostProcesses: true, seesContainers: false }), []);
  },
});

Deno.test("a lacking feature sets aside exactly the promises that need it, saying so", () => {
  const profile = {
    features: { ...all, canCancel: false },
    hostProcesses: true,
    seesContainers: false,
  };
  const titles = skipped(profile);
  assertEquals(titles.length, contractCases.filter((c) => c.needs.includes("canCancel")).length);
  assertEquals(titles.length >= 5, true);
  const reason = notApplicable(contractCases.find((c) => c.title === titles[0])!, profile)!;
  assertMatch(reason, /lacks canCancel/);
});

Deno.test("container steps the suite cannot list are not applicable where leftovers matter", () => {
  const profile = { features: all, hostProcesses: false, seesContainers: false };
  const titles = skipped(profile);
  assertEquals(
    titles.includes("background processes left at a normal exit are ended before exited"),
    true,
  );
  assertEquals(titles.includes("stdout and stderr are separate lines, in order"), false);
  const reason = notApplicable(contractCases.find((c) => c.title === titles[0])!, profile)!;
  assertMatch(reason, /run in containers/);
  // Given a way to list containers, they apply again.
  assertEquals(
    skipped({ ...profile, seesContainers: true }).filter((t) => !t.includes("reuses")),
    [],
  );
});

Deno.test("a pid printed by a container step is not tracked as a host process", async () => {
  const t = new Tracker();
  const inContainer = { executor: "x", pid: 1, pgid: 1, processStart: "1", containerId: "c0ffee" };
  await t.trackPid(Deno.pid, inContainer);
  assertEquals(t.pids, []);
  if (Deno.build.os === "linux") {
    await t.trackPid(Deno.pid, { ...inContainer, containerId: undefined });
    assertEquals(t.pids.map((p) => p.pid), [Deno.pid]);
  }
});
