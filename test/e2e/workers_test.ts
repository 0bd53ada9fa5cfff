// `swamp worker connect` against a real `swamp serve` with a CA-signed
// certificate: a connected worker shows up in `worker list` (locally and
// through the server), drains, is disconnected when its token is revoked,
// reconnects after the server is killed and restarted, and every refusal
// ends the worker with its stable code and exit status. No secret is written.
import {
  assert,
  assertEquals,
  pinOf,
  runCli,
  serveWithTestCa,
  startServe,
} from "../helpers/mod.ts";
import { startWorker, type WorkerProcess } from "../helpers/worker.ts";
import { supportedProtocol } from "../../runtime/mod.ts";

interface WorkerJson {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
  protocolVersion: number;
}

async function workerToken(root: string, name: string, extra: string[] = []): Promise<string> {
  const made = await runCli(["worker", "token", "create", name, "--repo", root, "-q", ...extra]);
  if (made.code !== 0) throw new Error(`worker token create failed: ${made.stderr}`);
  return made.stdout.trim();
}

/** `worker list --json` until `ready` holds for its workers; fails clearly after 30 s. */
async function listUntil(
  list: () => Promise<{ json: unknown; stderr: string }>,
  ready: (workers: WorkerJson[]) => boolean,
  what: string,
): Promise<WorkerJson[]> {
  let last: unknown;
  for (let i = 0; i < 150; i++) {
    const result = await list();
    last = result.json ?? result.stderr;
    const workers = (result.json as { workers?: WorkerJson[] })?.workers;
    if (workers && ready(workers)) return workers;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`worker list never showed ${what}; last answer: ${JSON.stringify(last)}`);
}

async function refusal(worker: WorkerProcess): Promise<[number, unknown]> {
  const code = await worker.exited();
  return [code, worker.events.find((e) => e.event === "refused")?.code];
}

Deno.test("a worker connects over TLS, is listed, drains, and is disconnected by a revoke", async () => {
  await using serve = await serveWithTestCa("file", {}, "ops", "operator");
  const root = serve.repo.root;
  const credential = await workerToken(root, "gpu-box", ["--label", "gpu=true"]);
  const cache = await Deno.makeTempDir({ prefix: "swamp-worker-" });
  await using worker = startWorker(serve.server.url, [
    "--token",
    credential,
    "--cache-dir",
    cache,
    "--ca-cert",
    serve.ca.certFile,
    "--label",
    "zone=eu",
    "--label",
    "gpu=false",
  ]);
  const connected = await worker.waitFor("connected");
  assertEquals(connected.labels, { gpu: "true", zone: "eu" }, "the token's labels win");

  const caCert = ["--ca-cert", serve.ca.certFile];
  const viaServer = () => serve.server.cli(["worker", "list", "--json"], serve.token, caCert);
  const [listed] = await listUntil(viaServer, (w) => w.length === 1, "the worker");
  assertEquals([listed.name, listed.state, listed.protocolVersion], [
    "gpu-box",
    "connected",
    supportedProtocol.max,
  ]);
  assertEquals(listed.id, connected.workerId);
  const local = () => runCli(["worker", "list", "--json", "--repo", root]);
  await listUntil(local, (w) => w[0]?.id === listed.id, "the worker locally");

  const drained = await serve.server.cli(
    ["worker", "drain", "gpu-box", "--json"],
    serve.token,
    caCert,
  );
  assertEquals(drained.code, 0, drained.stderr);
  assertEquals((drained.json as { changed: boolean }).changed, true);
  await worker.waitFor("drained");
  await listUntil(viaServer, (w) => w[0]?.state === "draining", "draining");

  const revoked = await runCli(["worker", "token", "revoke", "gpu-box", "--repo", root]);
  assertEquals(revoked.code, 0, revoked.stderr);
  assertEquals(await refusal(worker), [8, "token_revoked"]);
  await listUntil(viaServer, (w) => w.length === 0, "no workers after the revoke");

  // The secret is in no output, log or file.
  const secret = credential.slice(credential.indexOf(".") + 1);
  const text = JSON.stringify(worker.events) + JSON.stringify(serve.server.events) +
    (await worker.stderr());
  assert(!text.includes(secret), "the secret was printed");
  const grep = await new Deno.Command("grep", { args: ["-rlF", secret, root, cache] }).output();
  assertEquals(new TextDecoder().decode(grep.stdout), "", "a file holds the secret");
  await Deno.remove(cache, { recursive: true });
});

Deno.test("every refusal ends the worker with its stable code and exit status 8", async () => {
  await using serve = await serveWithTestCa("file", {}, "ops", "viewer");
  const root = serve.repo.root;
  const url = serve.server.url;
  const dir = await Deno.makeTempDir({ prefix: "swamp-worker-refusals-" });
  const trust = ["--ca-cert", serve.ca.certFile, "--no-reconnect"];
  const run = async (name: string, args: string[], env: Record<string, string> = {}) => {
    await using worker = startWorker(
      url,
      [...trust, "--cache-dir", `${dir}/${name}`, ...args],
      env,
    );
    return await refusal(worker);
  };
  const good = await workerToken(root, "w-good");
  const name = good.slice(0, good.indexOf("."));

  assertEquals(await run("wrong-secret", ["--token", `${name}.not-the-secret`]), [
    8,
    "token_invalid",
  ]);
  assertEquals(
    await run("protocol", ["--token", good], { SWAMP_WORKER_PROTOCOL_FOR_TESTS: "7-9" }),
    [8, "protocol_mismatch"],
  );
  const wrongPin = pinOf("ab".repeat(32));
  assertEquals(await run("pin", ["--token", good, "--pin", wrongPin]), [8, "pin_mismatch"]);

  // The first machine binds the token; a second cache dir is another machine.
  await using first = startWorker(url, [...trust, "--cache-dir", `${dir}/first`, "--token", good]);
  await first.waitFor("connected");
  assertEquals(await run("second", ["--token", good]), [8, "bound_to_other_machine"]);
  // The same machine twice: the second is told the first is connected.
  assertEquals(await run("first", ["--token", good]), [8, "already_connected"]);

  const revoked = await workerToken(root, "w-revoked");
  await runCli(["worker", "token", "revoke", "w-revoked", "--repo", root]);
  assertEquals(await run("revoked", ["--token", revoked]), [8, "token_revoked"]);

  const expiring = await workerToken(root, "w-expiring", ["--duration", "1s"]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assertEquals(await run("expired", ["--token", expiring]), [8, "token_expired"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a worker reconnects after its server is killed and restarted on the same address", async () => {
  await using serve = await serveWithTestCa("sqlite", {}, "ops", "viewer");
  const root = serve.repo.root;
  const credential = await workerToken(root, "w-blip");
  const cache = await Deno.makeTempDir({ prefix: "swamp-worker-" });
  await using worker = startWorker(serve.server.url, [
    "--token",
    credential,
    "--cache-dir",
    cache,
    "--ca-cert",
    serve.ca.certFile,
  ]);
  const first = await worker.waitFor("connected");
  const port = new URL(serve.server.url).port;
  await serve.server.kill();
  await worker.waitFor("disconnected");
  const seen = worker.events.length;
  await using again = await startServe(root, [
    "--listen",
    `127.0.0.1:${port}`,
    "--tls-cert",
    serve.cert.certFile,
    "--tls-key",
    serve.cert.keyFile,
  ]);
  const back = await worker.waitFor("connected", 30_000, seen);
  assertEquals(back.workerId, first.workerId, "the same machine is the same worker");
  const token = await runCli([
    "auth",
    "token",
    "create",
    "v2",
    "--role",
    "viewer",
    "-q",
    "--repo",
    root,
  ]);
  await listUntil(
    () =>
      again.cli(["worker", "list", "--json"], token.stdout.trim(), [
        "--ca-cert",
        serve.ca.certFile,
      ]),
    (w) => w[0]?.state === "connected",
    "the reconnected worker",
  );
  worker.signal("SIGTERM");
  assertEquals(await worker.exited(), 0);
  await Deno.remove(cache, { recursive: true });
});
