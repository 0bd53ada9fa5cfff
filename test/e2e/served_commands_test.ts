// Read commands (status, list, validate) served by the supervisor waiting for the repository
// (docs/design/0033), through the launcher's bundle with real processes and
// the real socket: what a user sees is exactly what the command prints by
// itself (stdout, stderr, exit status), the command's environment is the one
// it runs with and is gone afterwards, and a repository with executor
// modules is not served.
import {
  assert,
  assertEquals,
  assertMatch,
  runLauncher,
  shellStep,
  workflowFile,
} from "../helpers/mod.ts";
import {
  bigRun,
  bytesRead,
  launch,
  listening,
  readFixtures,
  sameBothWays,
  socketOf,
  waitingPids,
  withRepo,
} from "../helpers/standby.ts";
import { lineChannel } from "../../cli/standby_wire.ts";

/** No supervisor waits for these commands, nor is one started by them. */
const SWAMP_OFF = { SWAMP_STANDBY_IDLE: "0" };

Deno.test("status, list and validate served by the waiting supervisor print and exit exactly as the command does by itself", async () => {
  await withRepo(async (p) => {
    const repo = `${p.dir}/repo`;
    assertEquals((await launch(p, ["workflow", "run", "hello"])).code, 0);
    const { bigId, failedId } = await readFixtures(p);
    const waiting = await listening(p);

    const before = await bytesRead(waiting);
    const status = await sameBothWays(p, ["workflow", "status", bigId, "--json"]);
    assert(status.stdout.length > 2 << 20, "the big run's status holds its input");
    assert(
      await bytesRead(waiting) - before > 2 << 20,
      "the waiting supervisor read the run: it served the command",
    );
    for (
      const args of [
        ["workflow", "status", bigId.slice(0, 8)],
        ["workflow", "status", failedId, "-q"],
        ["workflow", "status", failedId, "-v", "--exit-status"],
        ["workflow", "status", "nosuchrun"],
        ["workflow", "status", "nosuchrun", "--json"],
        ["workflow", "list"],
        ["workflow", "list", "--json", "--status", "failed"],
        ["workflow", "list", "--limit", "1"],
        ["workflow", "list", "--cursor", "zzz"],
        ["workflow", "list", "--workflow", "nosuch"],
        ["workflow", "validate", "hello"],
        ["workflow", "validate", "broken"],
        ["workflow", "validate", "--all", "--json"],
        ["workflow", "validate", "nosuch"],
      ]
    ) await sameBothWays(p, args);
    const exitStatus = await launch(p, ["workflow", "status", failedId, "--exit-status"]);
    assertEquals(exitStatus.code, 1);
    const broken = await launch(p, ["workflow", "validate", "broken"]);
    assertEquals(broken.code, 3);
    assertMatch(broken.stdout + broken.stderr, /modelNmae/);
    // The next page's command (stderr, after the table on stdout) keeps the filter.
    const paged = await launch(p, ["workflow", "list", "--limit", "1", "--status", "succeeded"]);
    assertMatch(
      paged.stderr,
      /^more: swamp workflow list --status succeeded --limit 1 --cursor \S+$/m,
    );
    // From a subdirectory of the repository, as from its root.
    await Deno.mkdir(`${repo}/workflows/sub`);
    const fromSub = await runLauncher(["workflow", "list", "-q"], `${repo}/workflows/sub`, p.env);
    assertEquals(fromSub.code, 0, fromSub.stderr);
    assertEquals(fromSub.stdout.split("\n").filter(Boolean).length, 3);
    assertEquals((await waitingPids(p)).length, 1, "serving started no other supervisor");
  });
});

Deno.test("a served command has its own environment: nothing of it stays for the next run, and no file keeps it", async () => {
  await withRepo(async (p) => {
    const repo = `${p.dir}/repo`;
    await Deno.writeTextFile(
      `${repo}/workflows/workflow-env.yaml`,
      workflowFile("env", shellStep("env", "echo seen=${LEFT:-none}")),
    );
    assertEquals((await launch(p, ["workflow", "list"])).code, 0);
    // Started by the list, which found none waiting.
    const waiting = await listening(p);
    const secret = `secret-${crypto.randomUUID()}`;
    const listed = await launch(p, ["workflow", "list", "--json"], { LEFT: secret });
    assertEquals(listed.code, 0, listed.stderr);
    const run = await launch(p, ["workflow", "run", "env", "--json"]);
    assertEquals(run.code, 0, run.stderr);
    const final = JSON.parse(run.stdout.trimEnd().split("\n").pop()!);
    assertEquals(final.run.owner.pid, waiting, "the supervisor that served the list ran the run");
    const logs = await launch(p, ["workflow", "logs", final.run.id]);
    assertMatch(logs.stdout, /seen=none/);
    const grep = await new Deno.Command("grep", { args: ["-rlF", secret, p.dir] }).output();
    assertEquals(grep.code, 1, new TextDecoder().decode(grep.stdout));
  });
});

Deno.test("a repository with executor modules is not served: the command runs by itself", async () => {
  await withRepo(async (p) => {
    const repo = `${p.dir}/repo`;
    const bigId = await bigRun(p);
    const waiting = await listening(p);
    await Deno.mkdir(`${repo}/extensions/executors`, { recursive: true });
    await Deno.writeTextFile(`${repo}/extensions/executors/noop.ts`, "export const x = 1;\n");
    const before = await bytesRead(waiting);
    const status = await sameBothWays(p, ["workflow", "status", bigId, "--json"]);
    assert(status.stdout.length > 2 << 20, "the big run's status holds its input");
    // It read the two requests (an environment each) and none of the run.
    const read = await bytesRead(waiting) - before;
    assert(read < 1 << 20, `the waiting supervisor read ${read} bytes`);
  });
});

Deno.test("a supervisor that never answers, declines or hangs up leaves the command to run by itself", async () => {
  await withRepo(async (p) => {
    assertEquals((await launch(p, ["workflow", "run", "hello", "--json"], SWAMP_OFF)).code, 0);
    const expected = await launch(p, ["workflow", "list", "--json"], SWAMP_OFF);
    assertEquals(expected.code, 0, expected.stderr);
    for (const behaviour of ["silent", "declines", "hangs up"] as const) {
      // A stand-in on the repository's socket: it takes the request and does only that.
      const listener = Deno.listen({ transport: "unix", path: socketOf(p) });
      const held: { close(): void }[] = [];
      const answering = (async () => {
        for await (const conn of listener) {
          const channel = lineChannel(conn);
          await channel.next();
          if (behaviour === "declines") await channel.send({ declined: "not today" });
          if (behaviour !== "silent") channel.close();
          else held.push(channel);
        }
      })();
      try {
        const listed = await launch(p, ["workflow", "list", "--json"]);
        assertEquals(listed.code, 0, `${behaviour}: ${listed.stderr}`);
        assertEquals(listed.stdout, expected.stdout, behaviour);
      } finally {
        listener.close();
        for (const channel of held) channel.close();
        await answering.catch(() => {});
        await Deno.remove(socketOf(p)).catch(() => {});
      }
    }
  });
});
