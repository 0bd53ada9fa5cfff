// A supervisor waiting for a repository's next run (docs/design/0032), as a
// user meets it: through the launcher's bundle (from the sources no
// supervisor waits), with real processes and the real unix socket. Each test
// has its own XDG_RUNTIME_DIR, so it finds only the supervisors it made.
import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  shellStep,
  workflowFile,
} from "../helpers/mod.ts";
import { fromBinary } from "@bufbuild/protobuf";
import { RunSchema } from "../../proto/gen/swamp/v1/run_pb.ts";
import { fromBase64, lineChannel } from "../../cli/standby_wire.ts";
import { gone, launch, listening, socketOf, waitingPids, withRepo } from "../helpers/standby.ts";

Deno.test("after a run, a supervisor waits for the next; it runs that run with that command's environment (TZ reaches the step)", async () => {
  await withRepo(async (p) => {
    const first = await launch(p, ["workflow", "run", "hello"], { TZ: "UTC" });
    assertEquals(first.code, 0, first.stderr);
    assertMatch(first.stdout, /tz=UTC/);
    const waiting = await listening(p);
    const second = await launch(p, ["workflow", "run", "hello", "--json"], { TZ: "Asia/Tokyo" });
    assertEquals(second.code, 0, second.stderr);
    const final = JSON.parse(second.stdout.trimEnd().split("\n").pop()!);
    assertEquals(final.run.status, "succeeded");
    assertEquals(final.run.owner.pid, waiting, "the waiting supervisor owned the run");
    const logs = await launch(p, ["workflow", "logs", final.run.id]);
    assertMatch(logs.stdout, /tz=Asia\/Tokyo/);
    // It took one run only; another waits for the run after.
    const next = await listening(p);
    assert(next !== waiting, "a new supervisor waits");
    await eventually("the first to exit", async () => await gone(waiting) || undefined);
  });
});

Deno.test("an invalid workflow or setting handed to a waiting supervisor fails as it does without one", async () => {
  await withRepo(async (p) => {
    assertEquals((await launch(p, ["workflow", "run", "hello"])).code, 0);
    const waiting = await listening(p);
    await Deno.writeTextFile(
      `${p.dir}/repo/workflows/workflow-broken.yaml`,
      workflowFile("broken", shellStep("bad", "true").replace("command/shell", "nosuch/type")),
    );
    const through = await launch(p, ["workflow", "run", "broken", "--json"]);
    const without = await launch(p, ["workflow", "run", "broken", "--json"], {
      SWAMP_STANDBY_IDLE: "0",
    });
    assertEquals(through.code, without.code);
    assertEquals(through.stdout, without.stdout);
    assertMatch(through.stdout, /invalid_workflow/);
    await eventually(
      "the refusing supervisor to exit",
      async () => await gone(waiting) || undefined,
    );
    const listed = await launch(p, ["workflow", "list", "--json"]);
    assertEquals(JSON.parse(listed.stdout).runs.length, 1, "no run of the broken workflow exists");
    // A setting the repository cannot be opened with: refused the same way, nothing noted.
    const next = await listening(p);
    const bad = { SWAMP_HOST_MAX_STEPS: "many" };
    const badThrough = await launch(p, ["workflow", "run", "hello", "--json"], bad);
    const badWithout = await launch(p, ["workflow", "run", "hello", "--json"], {
      ...bad,
      SWAMP_STANDBY_IDLE: "0",
    });
    assertEquals(badThrough.code, 2, badThrough.stderr);
    assertEquals(badThrough.stdout, badWithout.stdout);
    await eventually("the refusing supervisor to exit", async () => await gone(next) || undefined);
    const log = await Deno.readTextFile(`${p.dir}/repo/.swamp/supervisor.log`).catch(() => "");
    assertEquals(log, "");
  });
});

Deno.test("a command that leaves before it takes its run gets the run cancelled; another build is declined", async () => {
  await withRepo(async (p) => {
    await Deno.writeTextFile(
      `${p.dir}/repo/workflows/workflow-slow.yaml`,
      workflowFile("slow", shellStep("slow", "sleep 30")),
    );
    assertEquals((await launch(p, ["workflow", "run", "hello"])).code, 0);
    let waiting = await listening(p);
    const build = (await Deno.readTextFile(`/proc/${waiting}/cmdline`)).split("\0")
      .find((arg) => arg.endsWith("/supervise.js"))!.replace(/\/supervise\.js$/, "");
    const submit = {
      protocol: 1,
      build,
      root: `${p.dir}/repo`,
      cwd: `${p.dir}/repo`,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", XDG_RUNTIME_DIR: p.runtime },
      request: { workflow: "slow", inputs: {}, detach: false },
    };
    // Another build: declined, and that supervisor exits (the next command starts a new one).
    const other = lineChannel(await Deno.connect({ transport: "unix", path: socketOf(p) }));
    await other.send({ ...submit, build: "/elsewhere" });
    assertEquals(await other.next(), {
      declined: "the supervisor waiting runs another build of swamp",
    });
    other.close();
    await eventually(
      "the declining supervisor to exit",
      async () => await gone(waiting) || undefined,
    );
    assertEquals((await launch(p, ["workflow", "run", "hello"])).code, 0);
    waiting = await listening(p);
    // The same build: created, then the connection closes without `taken`.
    const conn = lineChannel(await Deno.connect({ transport: "unix", path: socketOf(p) }));
    await conn.send(submit);
    const created = await conn.next() as { created: string; pid: number };
    assertEquals(created.pid, waiting);
    conn.close();
    const runId = fromBinary(RunSchema, fromBase64(created.created)).id;
    const status = await eventually("the run to be cancelled", async () => {
      const out = await launch(p, ["workflow", "status", runId, "--json"]);
      const run = JSON.parse(out.stdout).run;
      return run.status === "cancelled" ? run : undefined;
    });
    assertMatch(JSON.stringify(status), /interrupted from the terminal while starting/);
  });
});

Deno.test("a waiting supervisor exits after SWAMP_STANDBY_IDLE seconds without a run; none starts with it 0", async () => {
  await withRepo(async (p) => {
    assertEquals(
      (await launch(p, ["workflow", "run", "hello"], { SWAMP_STANDBY_IDLE: "2" })).code,
      0,
    );
    const waiting = await listening(p);
    await eventually(
      "the idle supervisor to exit",
      async () => await gone(waiting) || undefined,
      20_000,
    );
    const off = await launch(p, ["workflow", "run", "hello", "--json"], {
      SWAMP_STANDBY_IDLE: "0",
    });
    assertEquals(off.code, 0, off.stderr);
    // A supervisor decides on the next one before it exits: once the run's is gone, none waits.
    const owner = JSON.parse(off.stdout.trimEnd().split("\n").pop()!).run.owner.pid;
    await eventually("the run's supervisor to exit", async () => await gone(owner) || undefined);
    assertEquals(await waitingPids(p), []);
  });
});

Deno.test("the command's environment reaches no file: not the repository, not the socket's directory", async () => {
  await withRepo(async (p) => {
    const secret = `s3cret-${crypto.randomUUID()}`;
    assertEquals((await launch(p, ["workflow", "run", "hello"])).code, 0);
    await listening(p);
    const ran = await launch(p, ["workflow", "run", "hello"], { API_KEY: secret });
    assertEquals(ran.code, 0, ran.stderr);
    await listening(p);
    const grep = await new Deno.Command("grep", {
      args: ["-r", "-l", secret, p.dir],
      stdout: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(grep.stdout), "", "no file holds the secret");
  });
});
