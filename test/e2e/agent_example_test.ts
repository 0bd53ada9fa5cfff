// The agent in docs/guides/agent-example.ts, run as its documentation says,
// against a real `swamp serve`: it takes a gated workflow to success, trusting
// the server by CA or by pin, and fails plainly when it cannot.
import {
  assert,
  assertEquals,
  assertMatch,
  caSignedCert,
  gateStep,
  mintToken,
  repoWith,
  shellStep,
  startServe,
  statusJson,
  testCa,
  workflowFile,
} from "../helpers/mod.ts";

const root = new URL("../../", import.meta.url).pathname;
const after = (step: string) =>
  `        dependsOn: [{step: ${step}, condition: {type: succeeded}}]\n`;
const files = {
  "workflows/workflow-gated.yaml": workflowFile(
    "gated",
    shellStep("build", "echo built") + gateStep("confirm", after("build")) +
      shellStep("deploy", "echo deployed", after("confirm")),
  ),
  "workflows/workflow-doomed.yaml": workflowFile(
    "doomed",
    gateStep("confirm") + shellStep("deploy", "echo no; exit 3", after("confirm")),
  ),
};

/** `deno run -A --config deno.json docs/guides/agent-example.ts WORKFLOW`, bounded to 2 min. */
async function agent(workflow: string, env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", "deno.json", "docs/guides/agent-example.ts", workflow],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** The id of the run the agent submitted (its first line). */
function submitted(stdout: string): string {
  const id = /^submitted run ([0-9a-f-]{36}) of /.exec(stdout)?.[1];
  assert(id, `no run id in: ${stdout}`);
  return id;
}

Deno.test("agent example: with SWAMP_CA_CERT it approves the gate, resumes, and reports success", async () => {
  await using repo = await repoWith("file", files);
  const token = await mintToken(repo.root, "agent", "approver");
  const dir = await Deno.makeTempDir({ prefix: "swamp-agent-tls-" });
  try {
    const ca = await testCa(dir);
    const cert = await caSignedCert(ca, dir);
    await using server = await startServe(repo.root, [
      "--tls-cert",
      cert.certFile,
      "--tls-key",
      cert.keyFile,
    ]);
    const env = { SWAMP_SERVER: server.url, SWAMP_TOKEN: token, SWAMP_CA_CERT: ca.certFile };
    const ran = await agent("gated", env);
    assertEquals(ran.code, 0, `${ran.stdout}\n${ran.stderr}`);
    const runId = submitted(ran.stdout);
    // It saw the run stop at the gate, approved it, and followed the resumed run to its end.
    assertMatch(ran.stdout, /^#\d+ run RUNNING -> SUSPENDED$/m);
    assertMatch(ran.stdout, /^approved main\/confirm: Approve confirm\?$/m);
    assertMatch(ran.stdout, /^resumed run /m);
    assertMatch(ran.stdout, /^#\d+ main\/deploy SUCCEEDED$/m);
    assertMatch(ran.stdout, new RegExp(`^run ${runId} ended: SUCCEEDED$`, "m"));

    const run = await statusJson(repo, runId);
    assertEquals(run.status, "succeeded");
    assertEquals(run.steps.map((s) => [s.id, s.status]), [
      ["main/build", "succeeded"],
      ["main/confirm", "succeeded"],
      ["main/deploy", "succeeded"],
    ]);
    const decision = run.steps[1].approval?.decision;
    assertEquals([decision?.approved, decision?.actor], [true, "agent"]);
    assertEquals(decision?.reason, "approved by the example agent");
    assertEquals(run.steps[0].attempt ?? 1, 1, "build ran again after the resume");

    // A run that fails after its gate makes the agent exit 1 with the status it ended in.
    const doomed = await agent("doomed", env);
    assertEquals(doomed.code, 1, `${doomed.stdout}\n${doomed.stderr}`);
    assertMatch(doomed.stdout, /ended: FAILED$/m);
    assertEquals((await statusJson(repo, submitted(doomed.stdout))).status, "failed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("agent example: with SWAMP_PIN it trusts exactly the pinned certificate", async () => {
  await using repo = await repoWith("sqlite", files);
  const token = await mintToken(repo.root, "agent", "approver");
  await using server = await startServe(repo.root, ["--tls-self-signed"]);
  const env = { SWAMP_SERVER: server.url, SWAMP_TOKEN: token };

  const wrong = await agent("gated", { ...env, SWAMP_PIN: `sha256:${"0".repeat(64)}` });
  assertEquals(wrong.code, 2, `${wrong.stdout}\n${wrong.stderr}`);
  assertMatch(wrong.stderr, /does not match SWAMP_PIN/);
  assertEquals(wrong.stdout, "", "the agent sent a request to a server it did not trust");

  // A token that may not approve: the agent stops with swamp's error and hint.
  const viewer = await mintToken(repo.root, "onlooker", "viewer");
  const denied = await agent("gated", { ...env, SWAMP_PIN: server.pin, SWAMP_TOKEN: viewer });
  assertEquals(denied.code, 2, `${denied.stdout}\n${denied.stderr}`);
  assertMatch(denied.stderr, /^error\[PermissionDenied\]: token onlooker has role viewer; /m);
  assertMatch(denied.stderr, /^hint: use a token with role operator or above/m);

  const ran = await agent("gated", { ...env, SWAMP_PIN: server.pin });
  assertEquals(ran.code, 0, `${ran.stdout}\n${ran.stderr}`);
  const run = await statusJson(repo, submitted(ran.stdout));
  assertEquals(run.status, "succeeded");
  assertEquals(run.steps.map((s) => s.status), Array(3).fill("succeeded"));
  const listed = await repo.cli(["workflow", "list", "--json"]);
  assertEquals((listed.json as { runs: unknown[] }).runs.length, 1, "a refused agent made a run");
});
