// `swamp worker token` as an operator uses it, locally and through `swamp
// serve`: the secret shown once and kept nowhere, the states a token goes
// through, refusals with their exit statuses, and the roles a server asks for.
import { openRepoStore } from "../../cli/wiring.ts";
import { redeemWorkerToken, systemClock } from "../../runtime/mod.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  type CliResult,
  mintToken,
  repoWith,
  startServe,
  storeKinds,
} from "../helpers/mod.ts";

interface TokenJson {
  name: string;
  labels: Record<string, string>;
  createTime: string;
  expireTime: string;
  revokeTime?: string;
  boundMachineId?: string;
  enrollTime?: string;
  state: string;
  effectiveState: string;
  createdBy: string;
}

const secretOf = (credential: string) => credential.slice(credential.indexOf(".") + 1);
const tokensOf = (result: CliResult) => (result.json as { tokens: TokenJson[] }).tokens;
const statesOf = (result: CliResult) =>
  tokensOf(result).map((t) => [t.name, t.state, t.effectiveState]);

/** Files under `root` that contain any of `secrets` in plain text. */
async function filesHolding(root: string, secrets: string[]): Promise<string> {
  const output = await new Deno.Command("grep", {
    args: ["-rl", "-F", ...secrets.flatMap((s) => ["-e", s]), root],
  }).output();
  return new TextDecoder().decode(output.stdout);
}

for (const store of storeKinds) {
  Deno.test(`[${store}] worker token: create shows the secret once, list follows unused, enrolled, expired and revoked`, async () => {
    await using repo = await repoWith(store, {});
    const created = await repo.cli([
      "worker",
      "token",
      "create",
      "gpu-box",
      "--label",
      "gpu=true",
      "--label",
      "zone=eu-1",
      "--json",
    ]);
    assertEquals(created.code, 0, created.stderr);
    const { token, credential } = created.json as { token: TokenJson; credential: string };
    assertMatch(credential, /^gpu-box\.[A-Za-z0-9_-]{43}$/);
    assertEquals(Object.keys(token), [
      "name",
      "labels",
      "createTime",
      "expireTime",
      "state",
      "effectiveState",
      "createdBy",
    ]);
    assertEquals(token.labels, { gpu: "true", zone: "eu-1" });
    // Not bound yet: no machine, so no boundMachineId at all.
    assertEquals([token.state, token.effectiveState, token.boundMachineId], [
      "unused",
      "unused",
      undefined,
    ]);
    assertEquals(Date.parse(token.expireTime) - Date.parse(token.createTime), 8 * 3_600_000);

    // The human form: the credential alone on stdout, what it is and how to use it on stderr.
    const human = await repo.cli(["worker", "token", "create", "edge", "--duration", "2s"]);
    assertEquals(human.code, 0, human.stderr);
    const edge = human.stdout.trim();
    assertMatch(edge, /^edge\.[A-Za-z0-9_-]{43}$/);
    assertMatch(human.stderr, /created worker token edge \(expires \d{4}-\d\d-\d\d /);
    assertMatch(human.stderr, /the only time the secret is shown/);
    assertMatch(human.stderr, /swamp worker connect URL --token NAME\.SECRET/);
    const quiet = await repo.cli(["worker", "token", "create", "quiet", "-q"]);
    assertEquals(quiet.stderr, "");
    assertMatch(quiet.stdout, /^quiet\.[A-Za-z0-9_-]{43}\n$/);

    const listed = await repo.cli(["worker", "token", "list"]);
    assertEquals(listed.code, 0, listed.stderr);
    assertMatch(listed.stdout, /^NAME +STATE +RECORDED +EXPIRES +MACHINE +LABELS$/m);
    assertMatch(listed.stdout, /^gpu-box +unused +unused +\S+ \S+ +- +gpu=true,zone=eu-1$/m);

    // What `worker connect` will do on first use: bind the token to its machine.
    const opened = await openRepoStore(repo.root);
    try {
      await redeemWorkerToken(opened, credential, "machine-a", systemClock);
    } finally {
      await opened.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const later = await repo.cli(["worker", "token", "list", "--json"]);
    assertEquals(statesOf(later), [
      ["edge", "unused", "expired"],
      ["gpu-box", "enrolled", "enrolled"],
      ["quiet", "unused", "unused"],
    ]);
    const enrolled = tokensOf(later)[1];
    assertEquals(enrolled.boundMachineId, "machine-a");
    assert(enrolled.enrollTime, "an enrolled token has no enroll time");
    const table = await repo.cli(["worker", "token", "list"]);
    assertMatch(table.stdout, /^gpu-box +enrolled +enrolled +\S+ \S+ +machine-a +gpu=true/m);
    assertMatch(table.stdout, /^edge +expired +unused /m);

    const revoked = await repo.cli(["worker", "token", "revoke", "gpu-box", "--json"]);
    assertEquals(revoked.code, 0, revoked.stderr);
    const revokedToken = revoked.json as { token: TokenJson; changed: boolean };
    assertEquals(revokedToken.changed, true);
    assertEquals(revokedToken.token.boundMachineId, "machine-a");
    assertEquals(revokedToken.token.effectiveState, "revoked");
    const again = await repo.cli(["worker", "token", "revoke", "gpu-box"]);
    assertEquals(again.code, 0, again.stderr);
    assertMatch(again.stdout, /^worker token gpu-box was already revoked at \d{4}-/);
    const first = await repo.cli(["worker", "token", "revoke", "quiet"]);
    assertEquals(first.stdout, "revoked worker token quiet; it is refused from now on\n");
    const final = await repo.cli(["worker", "token", "list", "--json"]);
    assertEquals(statesOf(final), [
      ["edge", "unused", "expired"],
      ["gpu-box", "revoked", "revoked"],
      ["quiet", "revoked", "revoked"],
    ]);

    // Secrets are printed once and kept nowhere: not by list, not in any file of the repository.
    const secrets = [credential, edge, quiet.stdout.trim()].map(secretOf);
    for (const output of [listed, later, table, revoked, final]) {
      assert(!secrets.some((s) => output.stdout.includes(s)), "list or revoke printed a secret");
    }
    const files = await filesHolding(repo.root, secrets);
    assertEquals(files, "", `a secret was written to ${files}`);
  });
}

Deno.test("worker token: bad input is refused with its exit status and changes nothing", async () => {
  await using repo = await repoWith("file", {});
  const cases: [string[], number, RegExp][] = [
    [["gpu", "--label", "gpu"], 2, /error\[usage\]: `--label gpu` is not KEY=VALUE/],
    [["gpu", "--label", "a=1", "--label", "a=2"], 2, /label `a` is given twice/],
    [["gpu", "--label", "bad key=1"], 2, /`bad key` is not a valid label key/],
    [["gpu", "--duration", "0s"], 2, /--duration takes a duration/],
    [["gpu", "--duration", "-8h"], 2, /--duration takes a duration/],
    [["gpu", "--duration", "11000d"], 2, /at most 10 years/],
    [["Not_A_Name"], 2, /`Not_A_Name` is not a valid worker token name/],
  ];
  for (const [args, code, message] of cases) {
    const result = await repo.cli(["worker", "token", "create", ...args]);
    assertEquals(result.code, code, `${args.join(" ")}: ${result.stderr}`);
    assertMatch(result.stderr, message);
  }
  assertEquals(tokensOf(await repo.cli(["worker", "token", "list", "--json"])), []);
  const empty = await repo.cli(["worker", "token", "list"]);
  assertMatch(empty.stderr, /no worker tokens; create one with: swamp worker token create/);

  assertEquals((await repo.cli(["worker", "token", "create", "taken", "-q"])).code, 0);
  const taken = await repo.cli(["worker", "token", "create", "taken", "--json"]);
  assertEquals(taken.code, 5, taken.stderr);
  assertEquals((taken.json as { error: { code: string } }).error.code, "already_exists");
  // An API token of the same name is another credential, in another namespace.
  assertEquals((await repo.cli(["auth", "token", "create", "taken", "--role", "viewer"])).code, 0);
  const unknown = await repo.cli(["worker", "token", "revoke", "nobody"]);
  assertEquals(unknown.code, 4, unknown.stderr);
  assertMatch(unknown.stderr, /error\[not_found\]: no worker token named nobody/);
  assertMatch(unknown.stderr, /swamp worker token list/);
  const missing = await repo.cli(["worker", "token", "create"]);
  assertEquals(missing.code, 2);
  assertMatch(missing.stderr, /missing NAME/);
});

Deno.test("worker token through swamp serve: admin creates and revokes, operator lists, viewer is refused", async () => {
  await using repo = await repoWith("sqlite", {});
  const admin = await mintToken(repo.root, "root-admin", "admin");
  const operator = await mintToken(repo.root, "deployer", "operator");
  const viewer = await mintToken(repo.root, "watcher", "viewer");
  await using server = await startServe(repo.root, ["--tls-self-signed"]);

  const created = await server.cli(
    ["worker", "token", "create", "gpu-box", "--label", "gpu=true", "--duration", "30d", "--json"],
    admin,
  );
  assertEquals(created.code, 0, created.stderr);
  const { token, credential } = created.json as { token: TokenJson; credential: string };
  assertEquals(token.createdBy, "root-admin");
  assertEquals(token.labels, { gpu: "true" });
  assertEquals(Date.parse(token.expireTime) - Date.parse(token.createTime), 30 * 86_400_000);
  const human = await server.cli(["worker", "token", "create", "edge"], admin);
  assertEquals(human.code, 0, human.stderr);
  assertMatch(
    human.stderr,
    new RegExp(`swamp worker connect ${server.url.replaceAll(".", "\\.")} --token NAME\\.SECRET`),
  );

  const denied = await server.cli(["worker", "token", "create", "sneaky"], operator);
  assertEquals(denied.code, 8, denied.stderr);
  assertMatch(
    denied.stderr,
    /error\[permission_denied\]: token deployer has role operator; WorkerService\/CreateWorkerToken needs admin or above/,
  );
  const listed = await server.cli(["worker", "token", "list", "--json"], operator);
  assertEquals(listed.code, 0, listed.stderr);
  assertEquals(statesOf(listed), [
    ["edge", "unused", "unused"],
    ["gpu-box", "unused", "unused"],
  ]);
  const byViewer = await server.cli(["worker", "token", "list"], viewer);
  assertEquals(byViewer.code, 8, byViewer.stderr);
  assertMatch(byViewer.stderr, /WorkerService\/ListWorkerTokens needs operator or above/);
  const revokeDenied = await server.cli(["worker", "token", "revoke", "gpu-box"], operator);
  assertEquals(revokeDenied.code, 8, revokeDenied.stderr);

  const revoked = await server.cli(["worker", "token", "revoke", "gpu-box", "--json"], admin);
  assertEquals(revoked.code, 0, revoked.stderr);
  assertEquals((revoked.json as { changed: boolean }).changed, true);
  const unknown = await server.cli(["worker", "token", "revoke", "nobody"], admin);
  assertEquals(unknown.code, 4, unknown.stderr);

  // The server and a local command read the same store and give the same document.
  const remote = await server.cli(["worker", "token", "list", "--json"], admin);
  const local = await repo.cli(["worker", "token", "list", "--json"]);
  assertEquals(remote.json, local.json);
  assertEquals(statesOf(remote), [
    ["edge", "unused", "unused"],
    ["gpu-box", "revoked", "revoked"],
  ]);

  const secrets = [credential, human.stdout.trim()].map(secretOf);
  assertEquals(await filesHolding(repo.root, secrets), "");
  assert(!secrets.some((s) => JSON.stringify(server.events).includes(s)));
  assert(!secrets.some((s) => remote.stdout.includes(s)));
});

Deno.test("worker token: `swamp worker` lists its verbs and each has help", async () => {
  await using repo = await repoWith("file", {});
  for (const words of [["worker"], ["worker", "token"]]) {
    const group = await repo.cli(words);
    assertEquals(group.code, 0, group.stderr);
    assertMatch(group.stdout, /^ {2}token create +mint a worker enrollment token/m);
    assertMatch(group.stdout, /^ {2}token list +list worker enrollment tokens/m);
    assertMatch(group.stdout, /^ {2}token revoke +revoke a worker enrollment token/m);
  }
  const help = await repo.cli(["worker", "token", "create", "--help"]);
  assertMatch(help.stdout, /Usage: swamp worker token create NAME \[options\]/);
  assertMatch(help.stdout, /--label KEY=VALUE/);
  assertMatch(help.stdout, /--server URL/);
  const typo = await repo.cli(["worker", "token", "revok", "x"]);
  assertEquals(typo.code, 2, typo.stderr);
  assertMatch(typo.stderr, /unknown command `worker token revok`/);
});
