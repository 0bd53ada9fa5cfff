// `swamp serve` as a team would use it: tokens with roles, refusals that say
// who lacked what and never echo a secret, pinning, revocation.
import {
  assert,
  assertEquals,
  assertMatch,
  mintToken,
  repoWith,
  runCli,
  shellStep,
  startServe,
  workflowFile,
} from "../helpers/mod.ts";

const hello = workflowFile("hello", shellStep("greet", "echo hello from $SWAMP_ACTOR"));
const secretOf = (credential: string) => credential.slice(credential.indexOf(".") + 1);

Deno.test("serve: no token is unauthenticated, a weak token is permission_denied; neither echoes a secret", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-hello.yaml": hello });
  const viewer = await mintToken(repo.root, "watcher", "viewer");
  const operator = await mintToken(repo.root, "deployer", "operator");
  await using server = await startServe(repo.root, ["--tls-self-signed"]);

  const anonymous = await server.cli(["workflow", "list"]);
  assertEquals(anonymous.code, 8, anonymous.stderr);
  assertMatch(anonymous.stderr, /error\[unauthenticated\]: the request carries no API token/);

  const forged = await server.cli(["workflow", "list"], "deployer.not-the-secret");
  assertEquals(forged.code, 8, forged.stderr);
  assertMatch(forged.stderr, /error\[unauthenticated\]: token deployer is not valid here/);
  assert(!forged.stderr.includes("not-the-secret"), "the presented secret was echoed");

  const denied = await server.cli(["workflow", "run", "hello"], viewer);
  assertEquals(denied.code, 8, denied.stderr);
  assertMatch(
    denied.stderr,
    /error\[permission_denied\]: token watcher has role viewer; RunService\/SubmitRun needs operator or above/,
  );
  assert(!denied.stderr.includes(secretOf(viewer)), "the viewer's secret was echoed");
  const listed = await server.cli(["workflow", "list", "--json"], viewer);
  assertEquals(listed.code, 0, listed.stderr);
  assertEquals((listed.json as { runs: unknown[] }).runs, [], "a refused submit created a run");

  const ran = await server.cli(["workflow", "run", "hello"], operator);
  assertEquals(ran.code, 0, ran.stderr);
  assertMatch(ran.stdout, /^\[main\/greet\] hello from deployer$/m);

  const me = await server.cli(["auth", "whoami", "--json"], operator);
  assertEquals(me.json, { name: "deployer", kind: "token", role: "operator" });

  // Secrets live nowhere in the repository or the server's output: only their hashes are kept.
  const files = new TextDecoder().decode(
    (await new Deno.Command("grep", {
      args: ["-rl", "-F", "-e", secretOf(viewer), "-e", secretOf(operator), repo.root],
    }).output()).stdout,
  );
  assertEquals(files, "", `a secret was written to ${files}`);
  assert(!JSON.stringify(server.events).includes(secretOf(operator)));
});

Deno.test("serve: a revoked token is refused from the next request; an expired one too", async () => {
  await using repo = await repoWith("sqlite", { "workflows/workflow-hello.yaml": hello });
  const admin = await mintToken(repo.root, "root-admin", "admin");
  await using server = await startServe(repo.root);
  const created = await server.cli(
    ["auth", "token", "create", "short", "--role", "viewer", "--duration", "2s", "--json"],
    admin,
  );
  assertEquals(created.code, 0, created.stderr);
  const short = (created.json as { credential: string }).credential;
  assertMatch(short, /^short\.[A-Za-z0-9_-]{43}$/);
  const made = await server.cli(
    ["auth", "token", "create", "soon-gone", "--role", "viewer", "-q"],
    admin,
  );
  const soonGone = made.stdout.trim();
  assertEquals((await server.cli(["workflow", "list"], soonGone)).code, 0);

  const revoked = await server.cli(["auth", "token", "revoke", "soon-gone", "--json"], admin);
  assertEquals(revoked.code, 0, revoked.stderr);
  assertEquals((revoked.json as { changed: boolean }).changed, true);
  const refused = await server.cli(["workflow", "list"], soonGone);
  assertEquals(refused.code, 8, refused.stderr);
  assertMatch(refused.stderr, /token soon-gone was revoked/);

  await new Promise((resolve) => setTimeout(resolve, 2_200));
  const expired = await server.cli(["workflow", "list"], short);
  assertEquals(expired.code, 8, expired.stderr);
  assertMatch(expired.stderr, /token short expired at \d{4}-/);

  const list = await server.cli(["auth", "token", "list", "--json"], admin);
  const states = (list.json as { tokens: { name: string; state: string }[] }).tokens
    .map((t) => [t.name, t.state]);
  assertEquals(states, [
    ["root-admin", "active"],
    ["short", "expired"],
    ["soon-gone", "revoked"],
  ]);
  assert(!JSON.stringify(list.json).includes(secretOf(short)));
  // Token management needs admin.
  const byViewer = await server.cli(["auth", "token", "list"], short);
  assertEquals(byViewer.code, 8);
});

Deno.test("serve: the right pin works against a self-signed certificate; a wrong pin fails before any request", async () => {
  await using repo = await repoWith("file", { "workflows/workflow-hello.yaml": hello });
  const viewer = await mintToken(repo.root, "watcher", "viewer");
  await using server = await startServe(repo.root, ["--tls-self-signed"]);
  assertMatch(server.pin, /^sha256:[0-9a-f]{64}$/);
  assertMatch(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const pinned = await server.cli(["auth", "whoami"], viewer);
  assertEquals(pinned.code, 0, pinned.stderr);

  const wrongPin = `sha256:${"0".repeat(64)}`;
  const wrong = await runCli([
    "workflow",
    "list",
    "--server",
    server.url,
    "--pin",
    wrongPin,
    "--token",
    viewer,
  ]);
  assertEquals(wrong.code, 8, wrong.stderr);
  assertMatch(
    wrong.stderr,
    /error\[pin_mismatch\]: the certificate of 127\.0\.0\.1:\d+ does not match the pin/,
  );

  // Without a pin or CA the self-signed certificate is not trusted at all.
  const untrusted = await runCli(["workflow", "list", "--server", server.url, "--token", viewer]);
  assert(untrusted.code !== 0, "an unpinned, untrusted certificate was accepted");

  // Trusting the certificate as a CA works too (its name, 127.0.0.1, is checked).
  const caFile = `${repo.root}/.swamp/tls/serve-cert.pem`;
  const byCa = await runCli([
    "workflow",
    "list",
    "--server",
    server.url,
    "--ca-cert",
    caFile,
    "--token",
    viewer,
  ]);
  assertEquals(byCa.code, 0, byCa.stderr);

  // The self-signed certificate is kept: a restarted server has the same pin.
  const first = server.pin;
  await server.stop();
  await using again = await startServe(repo.root, ["--tls-self-signed"]);
  assertEquals(again.pin, first);
});

Deno.test("serve: refuses a non-loopback address without TLS, and says how to fix it", async () => {
  await using repo = await repoWith("file", {});
  const refused = await runCli(["serve", "--repo", repo.root, "--listen", "0.0.0.0:0"]);
  assertEquals(refused.code, 2, refused.stderr);
  assertMatch(refused.stderr, /refusing to serve 0\.0\.0\.0 without TLS/);
  assertMatch(refused.stderr, /--tls-self-signed/);
});
