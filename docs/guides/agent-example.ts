// An agent that drives a gated workflow through `swamp serve`, using the
// generated RunService client and Connect (docs/reference/api.md shows how to run it):
//
//   SWAMP_SERVER=https://127.0.0.1:7870 SWAMP_TOKEN=NAME.SECRET SWAMP_PIN=sha256:… \
//     deno run -A --config deno.json docs/guides/agent-example.ts WORKFLOW
//
// It submits a run, watches its events until the run stops at an approval gate,
// approves the gate, resumes the run, watches it to the end and prints the final
// status. It exits 0 when the run succeeded, 1 when it did not, 2 on an error.
// The token needs the approver role (it submits, approves and resumes).
import { X509Certificate } from "node:crypto";
import * as tls from "node:tls";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ErrorDetailSchema } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import { RunService } from "../../proto/gen/swamp/v1/run_service_pb.ts";

const server = required("SWAMP_SERVER");
const token = required("SWAMP_TOKEN");
const workflow = Deno.args[0];
if (!workflow) {
  console.error("usage: agent-example.ts WORKFLOW");
  Deno.exit(2);
}

type Runs = Client<typeof RunService>;

try {
  const runs: Runs = createClient(
    RunService,
    createConnectTransport({
      baseUrl: server,
      httpVersion: "2",
      nodeOptions: await trust(new URL(server)),
      // Every call carries the API token.
      interceptors: [(next) => (request) => {
        request.header.set("authorization", `Bearer ${token}`);
        return next(request);
      }],
    }),
  );
  Deno.exit(await drive(runs, workflow));
} catch (error) {
  const failure = ConnectError.from(error);
  // swamp's own description of a failure travels in an ErrorDetail: code, message, hint.
  const [detail] = failure.findDetails(ErrorDetailSchema);
  console.error(`error[${Code[failure.code]}]: ${detail?.message ?? failure.rawMessage}`);
  if (detail?.hint) console.error(`hint: ${detail.hint}`);
  Deno.exit(2);
}

/** Runs `workflow` to its end, approving every gate it stops at; 0 if it succeeded, else 1. */
async function drive(runs: Runs, workflow: string): Promise<number> {
  const { run } = await runs.submitRun({ workflow, detach: true });
  const runId = run!.id;
  console.log(`submitted run ${runId} of ${workflow}`);
  let seq = await watch(runs, runId, 0n);
  for (;;) {
    const { run } = await runs.getRun({ runId });
    if (run!.status !== RunStatus.SUSPENDED) {
      console.log(`run ${runId} ended: ${RunStatus[run!.status]}`);
      return run!.status === RunStatus.SUCCEEDED ? 0 : 1;
    }
    // Suspended: every gate that waits is approved, then the run goes on from where it stopped.
    for (const step of run!.steps.filter((s) => s.status === StepStatus.WAITING_APPROVAL)) {
      await runs.approveStep({ runId, step: step.id, reason: "approved by the example agent" });
      console.log(`approved ${step.id}: ${step.approval?.prompt ?? ""}`);
    }
    await runs.resumeRun({ runId, detach: true });
    console.log(`resumed run ${runId}`);
    seq = await watch(runs, runId, seq);
  }
}

/**
 * Prints the run's events after `afterSeq` until the run settles (ends, or suspends at a gate):
 * a follow stream ends by itself then. Returns the last seq seen, to go on from there.
 */
async function watch(runs: Runs, runId: string, afterSeq: bigint): Promise<bigint> {
  let seq = afterSeq;
  for await (const { event } of runs.watchRunEvents({ runId, afterSeq, follow: true })) {
    seq = event!.seq;
    const { case: kind, value } = event!.payload;
    if (kind === "runStatusChanged") {
      console.log(`#${seq} run ${RunStatus[value.from]} -> ${RunStatus[value.to]}`);
    } else if (kind === "stepStatusChanged") {
      console.log(`#${seq} ${value.stepId} ${StepStatus[value.to]}`);
    }
  }
  return seq;
}

/**
 * How to trust the server: SWAMP_CA_CERT names a CA (or self-signed) certificate file;
 * SWAMP_PIN (`sha256:HEX`, as `swamp serve` prints it) accepts exactly that certificate.
 */
async function trust(url: URL): Promise<tls.ConnectionOptions> {
  const caFile = Deno.env.get("SWAMP_CA_CERT");
  if (caFile) return { ca: await Deno.readTextFile(caFile) };
  const pin = Deno.env.get("SWAMP_PIN");
  if (!pin || url.protocol !== "https:") return {};
  const expected = pin.replace(/^sha256:/, "").replaceAll(":", "").toLowerCase();
  const certificate = await serverCertificate(url);
  const fingerprint = (pem: string) =>
    new X509Certificate(pem).fingerprint256.replaceAll(":", "").toLowerCase();
  if (fingerprint(certificate) !== expected) {
    throw new Error(`the certificate of ${url.host} does not match SWAMP_PIN`);
  }
  return {
    ca: certificate,
    // The pin is the server's identity: check it again on the connection that is used.
    checkServerIdentity: (_host, cert) =>
      cert.fingerprint256.replaceAll(":", "").toLowerCase() === expected
        ? undefined
        : new Error(`the certificate of ${url.host} does not match SWAMP_PIN`),
  };
}

/** The server's certificate as PEM, read from a TLS handshake that trusts nothing yet. */
function serverCertificate(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: url.hostname,
      port: Number(url.port || 443),
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no TLS handshake with ${url.host}`)));
    socket.once("secureConnect", () => {
      const der = new Uint8Array(socket.getPeerCertificate().raw);
      socket.end();
      const base64 = btoa(String.fromCharCode(...der)).replace(/(.{64})/g, "$1\n").trimEnd();
      resolve(`-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`);
    });
    socket.once("error", reject);
  });
}

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) {
    console.error(`set ${name}`);
    Deno.exit(2);
  }
  return value;
}
