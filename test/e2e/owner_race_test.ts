// Ownership fencing across real processes (DESIGN §13, docs/design/0011):
// claimants racing for one run in one store, and an owner taken over while
// it still writes; on the file store, and on PostgreSQL where the machine has it.
import { create } from "@bufbuild/protobuf";
import { OwnerChangedSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { OwnerSchema, RunStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import { systemClock } from "../../runtime/ports/clock.ts";
import type { RunStore } from "../../runtime/ports/store.ts";
import { foldEvents } from "../../runtime/run/fold.ts";
import { RunJournal } from "../../runtime/run/journal.ts";
import { claimRun } from "../../runtime/run/claim.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { storeNewRun, tempFileStore } from "../helpers/stores.ts";
import { capability } from "../helpers/capabilities.ts";
import { sharedPostgres } from "../helpers/postgres.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";
import type { Job, Report } from "./fixtures/owner_claim.ts";

const script = new URL("./fixtures/owner_claim.ts", import.meta.url).pathname;
const repoRoot = new URL("../../", import.meta.url).pathname;
/** A bound on the whole exchange, not a timing assertion: a stuck child is killed. */
const limitMs = 60_000;

const pendingRun = (store: RunStore) => storeNewRun(store, { status: RunStatus.PENDING });

async function present(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** Waits until every path exists, or fails when a child has failed or the limit passed. */
async function until(paths: string[], failed: () => boolean, deadline: number): Promise<void> {
  for (;;) {
    if ((await Promise.all(paths.map(present))).every(Boolean)) return;
    assert(!failed(), `a claimant failed before ${paths.join(", ")}`);
    assert(Date.now() < deadline, `gave up waiting for ${paths.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Starts one claimant per job, releases them together, runs `between` once
 * every winner is done writing, and returns their reports.
 */
async function claimants(
  jobs: Omit<Job, "barrier">[],
  between: (barrier: string) => Promise<void> = async () => {},
): Promise<Report[]> {
  const barrier = await Deno.makeTempDir({ prefix: "swamp-owner-race-" });
  const deadline = Date.now() + limitMs;
  try {
    let failed = false;
    const outputs = jobs.map((job) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-all", script, JSON.stringify({ ...job, barrier })],
        cwd: repoRoot,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(limitMs),
      }).output().then((output) => {
        failed ||= !output.success;
        return output;
      })
    );
    const hasFailed = () => failed;
    await until(jobs.map((job) => `${barrier}/ready-${job.name}`), hasFailed, deadline);
    await Deno.writeTextFile(`${barrier}/go`, "");
    await until(jobs.map((job) => `${barrier}/done-${job.name}`), hasFailed, deadline);
    await between(barrier);
    const decoder = new TextDecoder();
    return (await Promise.all(outputs)).map((output, i) => {
      assert(output.success, `claimant ${jobs[i].name} failed:\n${decoder.decode(output.stderr)}`);
      return JSON.parse(decoder.decode(output.stdout).trim().split("\n").at(-1)!) as Report;
    });
  } finally {
    await Deno.remove(barrier, { recursive: true });
  }
}

/** A store for one test, and how a claimant process opens it. */
interface RaceStore {
  store: RunStore;
  dir: string;
  opener?: Job["opener"];
  [Symbol.asyncDispose](): Promise<void>;
}

function ownerRace(kind: string, open: () => Promise<RaceStore>): void {
  Deno.test(`${kind} store: two processes claim one pending run at once: one owns it, the other writes nothing`, async () => {
    await using temp = await open();
    const runId = await pendingRun(temp.store);
    const peers = ["a", "b"];
    // Both read the run before they are released, so the later claim always
    // meets the earlier one in the store's compare-and-swap, whatever the timing.
    const reports = await claimants(
      peers.map((name) => ({
        storeDir: temp.dir,
        opener: temp.opener,
        runId,
        name,
        peers,
        events: 3,
      })),
    );
    const winners = reports.filter((r) => r.claimed);
    assertEquals(winners.length, 1, JSON.stringify(reports));
    const [winner] = winners;
    const loser = reports.find((r) => !r.claimed)!;
    assertEquals([winner.epoch, loser.epoch], ["1", "0"]);
    const events = await temp.store.readEvents(runId, 0n);
    assertEquals(events.map((e) => [String(e.seq), e.actor, e.ownerEpoch, e.payload.case]), [
      ["1", "", 0n, "runCreated"],
      ["2", winner.name, 1n, "ownerChanged"],
      ...winner.written.map((seq) => [seq, winner.name, 1n, "heartbeat"]),
    ]);
    assert(events.every((e) => e.actor !== loser.name), "the loser wrote nothing");
    const stored = (await temp.store.loadRun(runId))!;
    const run = foldEvents(stored.snapshot, stored.tail);
    assertEquals([run.owner?.pid, run.owner?.epoch], [winner.pid, 1n]);
  });

  Deno.test(`${kind} store: an owner taken over while it writes stops at its next write and writes nothing`, async () => {
    await using temp = await open();
    const runId = await pendingRun(temp.store);
    let takeoverSeq = 0n;
    const [report] = await claimants(
      [{
        storeDir: temp.dir,
        opener: temp.opener,
        runId,
        name: "a",
        peers: ["a"],
        events: 2,
        then: "taken",
      }],
      async (barrier) => {
        // Another host's supervisor that judged the owner's heartbeat too old.
        const successor = await RunJournal.open(temp.store, runId, systemClock, "successor");
        const owner = create(OwnerSchema, { host: "elsewhere", pid: 7, epoch: 2n });
        const [claim] = await successor.append({
          payload: { case: "ownerChanged", value: create(OwnerChangedSchema, { owner }) },
        });
        takeoverSeq = claim.seq;
        await Deno.writeTextFile(`${barrier}/taken`, "");
      },
    );
    assertEquals([report.claimed, report.lost], [true, "stale_lease"]);
    assertEquals(report.written.length, 2, "only the writes before the takeover");
    const events = await temp.store.readEvents(runId, 0n);
    assertEquals(events.at(-1)?.seq, takeoverSeq);
    const stored = (await temp.store.loadRun(runId))!;
    const run = foldEvents(stored.snapshot, stored.tail);
    assertEquals([run.owner?.host, run.owner?.epoch], ["elsewhere", 2n]);
  });
}

ownerRace("file", tempFileStore);

const postgres = await capability("postgres");
if (postgres.available) {
  const cluster = sharedPostgres();
  ownerRace("postgres", async () => {
    const dsn = await (await cluster.get()).createDatabase();
    const store = await openPostgresStore(dsn);
    return {
      store,
      dir: "",
      opener: {
        module: new URL("../../plugins/stores/postgres/mod.ts", import.meta.url).href,
        exportName: "openPostgresStore",
        args: [dsn],
      },
      [Symbol.asyncDispose]: () => store.close(),
    };
  });

  // Decision 0027: two `swamp serve` instances, as real processes, take over the run of a third
  // whose heartbeat lapsed, released together: exactly one claim is written.
  Deno.test("[postgres] two instances racing to take over a dead instance's run: exactly one wins", async () => {
    const c = await cluster.get();
    const dsn = await c.createDatabase();
    const store = await openPostgresStore(dsn);
    try {
      const runId = await pendingRun(store);
      await store.instances!.register({ id: "dead", host: "elsewhere", pid: 1 });
      const first = await RunJournal.open(store, runId, systemClock, "dead");
      const dead = { host: "elsewhere", bootId: "b", pid: 1, processStart: "1", server: "dead" };
      assert(await claimRun(first, dead, systemClock, "first owner"));
      // Its heartbeat lapses: a minute old by the database's clock.
      await c.psql(
        "UPDATE instances SET heartbeat = heartbeat - interval '1 minute' WHERE id = 'dead'",
        /@\/([^?]+)/.exec(dsn)![1],
      );
      const peers = ["a", "b"];
      const reports = await claimants(peers.map((name) => ({
        storeDir: "",
        opener: {
          module: new URL("../../plugins/stores/postgres/mod.ts", import.meta.url).href,
          exportName: "openPostgresStore",
          args: [dsn],
        },
        runId,
        name,
        peers,
        events: 2,
        server: `instance-${name}`,
      })));
      const winners = reports.filter((r) => r.claimed);
      assertEquals(winners.length, 1, JSON.stringify(reports));
      assertEquals(winners[0].epoch, "2");
      const owners = (await store.readEvents(runId, 0n))
        .filter((e) => e.payload.case === "ownerChanged");
      assertEquals(owners.map((e) => e.ownerEpoch), [1n, 2n]);
      const stored = (await store.loadRun(runId))!;
      assertEquals(
        foldEvents(stored.snapshot, stored.tail).owner?.server,
        `instance-${winners[0].name}`,
      );
    } finally {
      await store.close();
    }
  });
} else {
  Deno.test({
    name: `[postgres] owner races (skipped: ${postgres.reason})`,
    ignore: true,
    fn() {},
  });
}
