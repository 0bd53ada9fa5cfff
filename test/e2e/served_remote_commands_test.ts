// Read commands through a server (`--server`, decision 0036) served by the
// supervisor waiting for the repository they are typed in, through the
// launcher's bundle with a real `swamp serve` over TLS made in the test: what
// a user sees is exactly what the command prints by itself, the first one
// runs by itself while the supervisor loads the client, and nothing of the
// command (its connection, its token) stays in the supervisor afterwards.
import {
  assert,
  assertEquals,
  assertMatch,
  eventually,
  mintToken,
  shellStep,
  startServe,
  within,
  workflowFile,
} from "../helpers/mod.ts";
import {
  bigRun,
  gone,
  launch,
  listening,
  type Place,
  readFixtures,
  sameBothWays,
  spawnLaunch,
  waitingPids,
  withRepo,
} from "../helpers/standby.ts";
import { caSignedCert, testCa } from "../helpers/tls.ts";

/** Established TCP connections to `port` that process `pid` holds. */
async function connectionsTo(pid: number, port: number): Promise<number> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await Deno.readTextFile(table).catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== "01") continue; // 01: established
      if (parseInt(fields[2].split(":")[1], 16) === port) inodes.add(fields[9]);
    }
  }
  let held = 0;
  for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${entry.name}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && inodes.has(inode)) held++;
  }
  return held;
}

/**
 * Whether the waiting supervisor `pid` made the call of `args` to the server,
 * rather than the command's own process: with the server stopped, the call
 * waits on an open connection, and /proc says whose it is.
 */
async function servedBy(
  p: Place,
  pid: number,
  server: { pid: number; url: string },
  args: string[],
): Promise<boolean> {
  const port = Number(new URL(server.url).port);
  Deno.kill(server.pid, "SIGSTOP");
  let command: Deno.ChildProcess | undefined;
  let holder: string;
  try {
    command = spawnLaunch(p, args);
    const commandPid = command.pid;
    holder = await eventually("the command's connection to the stopped server", async () => {
      if (await connectionsTo(pid, port) > 0) return "supervisor";
      if (await connectionsTo(commandPid, port) > 0) return "command";
      return undefined;
    });
  } finally {
    Deno.kill(server.pid, "SIGCONT");
  }
  const result = await command.output();
  assertEquals(result.code, 0, new TextDecoder().decode(result.stderr));
  return holder === "supervisor";
}

/** A `swamp serve` of the repository of `p`, over TLS with a CA made here, and a viewer's token. */
async function serving(p: Place) {
  const tls = `${p.dir}/tls`;
  await Deno.mkdir(tls);
  const ca = await testCa(tls);
  const cert = await caSignedCert(ca, tls);
  const token = await mintToken(`${p.dir}/repo`, "reader", "viewer");
  const server = await startServe(`${p.dir}/repo`, [
    "--tls-cert",
    cert.certFile,
    "--tls-key",
    cert.keyFile,
  ]);
  // Relative to the repository, where the commands run: the served one must resolve it there too.
  const caCert = `../tls/${ca.certFile.split("/").pop()}`;
  const remote = ["--server", server.url, "--ca-cert", caCert, "--token", token];
  return { server, token, caCert, remote, port: Number(new URL(server.url).port) };
}

Deno.test("status, list and validate through a server, served by the waiting supervisor, print and exit exactly as by themselves", async () => {
  await withRepo(async (p) => {
    const repo = `${p.dir}/repo`;
    const { bigId, failedId } = await readFixtures(p);
    await Deno.writeTextFile(
      `${repo}/workflows/workflow-env.yaml`,
      workflowFile("env", shellStep("env", "echo token=${SWAMP_TOKEN:-none}")),
    );
    const { server, token, caCert, remote, port } = await serving(p);
    try {
      const waiting = await listening(p);
      // The first one runs by itself (the supervisor has not loaded the client); soon they are
      // served. Each, served or not, prints exactly what the command prints by itself.
      const bigStatus = ["workflow", "status", bigId, "--json", ...remote];
      const tries = await eventually("a command through the server to be served", async () => {
        const status = await sameBothWays(p, bigStatus);
        return await servedBy(p, waiting, server, bigStatus) ? status : undefined;
      });
      assertEquals(JSON.parse(tries.stdout).run.id, bigId);
      for (
        const args of [
          ["workflow", "status", bigId.slice(0, 8), ...remote],
          ["workflow", "status", failedId, "-q", ...remote],
          ["workflow", "status", failedId, "-v", "--exit-status", ...remote],
          ["workflow", "status", "nosuchrun", ...remote],
          ["workflow", "status", "nosuchrun", "--json", ...remote],
          ["workflow", "list", ...remote],
          ["workflow", "list", "--json", "--status", "failed", ...remote],
          ["workflow", "list", "--limit", "1", ...remote],
          ["workflow", "validate", "hello", ...remote],
          ["workflow", "validate", "broken", ...remote],
          // A wrong secret, a pin that does not match, flags that cannot go together.
          ["workflow", "status", failedId, ...remote, "--token", "reader.wrong"],
          ["workflow", "list", ...remote, "--pin", `sha256:${"0".repeat(64)}`],
          ["workflow", "list", ...remote, "--repo", "."],
        ]
      ) await sameBothWays(p, args);
      const refused = await launch(p, ["workflow", "list", ...remote, "--token", "reader.wrong"]);
      assertMatch(refused.stderr, /unauthenticated/);
      assert(!refused.stderr.includes("reader.wrong"), "the secret is not echoed");
      const pinned = await launch(p, [
        "workflow",
        "list",
        ...remote,
        "--pin",
        `sha256:${"0".repeat(64)}`,
      ]);
      assertMatch(pinned.stderr, /pin_mismatch/);
      // The server and the token from the environment, as from the flags.
      const fromEnv = await sameBothWays(
        p,
        ["workflow", "status", failedId, "-q", "--ca-cert", caCert],
        { SWAMP_SERVER: server.url, SWAMP_TOKEN: token },
      );
      assertEquals(fromEnv.stdout, "failed\n");
      assert(await servedBy(p, waiting, server, bigStatus), "still served after the refusals");

      // The supervisor keeps no connection to the server once a command is done.
      await eventually(
        "the served commands' connections to close",
        async () => await connectionsTo(waiting, port) === 0 || undefined,
      );
      // Nor the token: the run it takes next has the run's environment, and no file has it.
      const run = await launch(p, ["workflow", "run", "env", "--json"]);
      assertEquals(run.code, 0, run.stderr);
      const final = JSON.parse(run.stdout.trimEnd().split("\n").pop()!);
      assertEquals(final.run.owner.pid, waiting, "the supervisor that served them ran the run");
      const logs = await launch(p, ["workflow", "logs", final.run.id]);
      assertMatch(logs.stdout, /token=none/);
      const secret = token.split(".")[1];
      const grep = await new Deno.Command("grep", { args: ["-rlF", secret, p.dir] }).output();
      assertEquals(grep.code, 1, new TextDecoder().decode(grep.stdout));
    } finally {
      await server.stop();
    }
  });
});

Deno.test("a supervisor started by a command through a server serves the next one at once", async () => {
  await withRepo(async (p) => {
    const bigId = await bigRun(p);
    const { server, remote } = await serving(p);
    try {
      // None waits: the command runs by itself and starts one that loads the client as it starts.
      const first = await listening(p);
      Deno.kill(first, "SIGTERM");
      await eventually(`supervisor ${first} to exit`, async () => await gone(first) || undefined);
      const bigStatus = ["workflow", "status", bigId, "--json", ...remote];
      const alone = await launch(p, bigStatus);
      assertEquals(alone.code, 0, alone.stderr);
      const waiting = await listening(p);
      const argv = (await Deno.readTextFile(`/proc/${waiting}/cmdline`)).split("\0");
      assertEquals(argv.slice(-3, -1), [`${p.dir}/repo`, "--remote"]);
      assert(await servedBy(p, waiting, server, bigStatus), "the next command was served");
      assertEquals(await waitingPids(p), [waiting], "serving started no other supervisor");
    } finally {
      await server.stop();
    }
  });
});

Deno.test("a run takes the waiting supervisor at once while a command it serves waits on a server that does not answer", async () => {
  await withRepo(async (p) => {
    const { server, remote, port } = await serving(p);
    try {
      assertEquals(await waitingPids(p), []);
      // Started by a command through the server: it serves the next one at once.
      assertEquals((await launch(p, ["workflow", "list", ...remote])).code, 0);
      const waiting = await listening(p);
      const expected = await launch(p, ["workflow", "list", "--json", ...remote]);
      assertEquals(expected.code, 0, expected.stderr);
      Deno.kill(server.pid, "SIGSTOP");
      let list: Deno.ChildProcess | undefined;
      try {
        list = spawnLaunch(p, ["workflow", "list", "--json", ...remote]);
        await eventually(
          "the served list to wait on the stopped server",
          async () => await connectionsTo(waiting, port) > 0 || undefined,
        );
        // The run is not held behind the list: the supervisor ends the list's call and runs it.
        const run = await within(
          30_000,
          "the run",
          launch(p, ["workflow", "run", "hello", "--json"]),
        );
        assertEquals(run.code, 0, run.stderr);
        const final = JSON.parse(run.stdout.trimEnd().split("\n").pop()!);
        assertEquals(final.run.owner.pid, waiting, "the waiting supervisor ran the run");
        assertEquals(final.run.status, "succeeded");
        // The list was not answered: it runs by itself, and waits on the server in turn.
        const listPid = list.pid;
        await eventually(
          "the list to call the server itself",
          async () => await connectionsTo(listPid, port) > 0 || undefined,
        );
      } finally {
        Deno.kill(server.pid, "SIGCONT");
      }
      const listed = await list.output();
      const text = new TextDecoder();
      assertEquals(listed.code, 0, text.decode(listed.stderr));
      // What it printed: the runs as the server lists them once it answers (the new run first).
      const runs = JSON.parse(text.decode(listed.stdout)).runs;
      assertEquals(runs.length, JSON.parse(expected.stdout).runs.length + 1);
      assertEquals(text.decode(listed.stderr), "");
    } finally {
      await server.stop();
    }
  });
});

Deno.test("a command line that goes away ends the call it left waiting on a server that does not answer", async () => {
  await withRepo(async (p) => {
    const bigId = await bigRun(p);
    const { server, remote, port } = await serving(p);
    try {
      const first = await listening(p);
      Deno.kill(first, "SIGTERM");
      await eventually(`supervisor ${first} to exit`, async () => await gone(first) || undefined);
      assertEquals((await launch(p, ["workflow", "list", ...remote])).code, 0);
      const waiting = await listening(p);
      Deno.kill(server.pid, "SIGSTOP");
      try {
        const list = spawnLaunch(p, ["workflow", "list", ...remote]);
        await eventually(
          "the served list to wait on the stopped server",
          async () => await connectionsTo(waiting, port) > 0 || undefined,
        );
        list.kill("SIGKILL");
        await list.output();
        // The server still answers nothing: the supervisor let go of the call by itself.
        await eventually(
          "the supervisor to end the call of the command that went away",
          async () => await connectionsTo(waiting, port) === 0 || undefined,
        );
      } finally {
        Deno.kill(server.pid, "SIGCONT");
      }
      const bigStatus = ["workflow", "status", bigId, "--json", ...remote];
      assert(await servedBy(p, waiting, server, bigStatus), "the next command is served");
    } finally {
      await server.stop();
    }
  });
});
