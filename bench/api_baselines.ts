// The baselines bench/api.ts sets swamp serve against, each run in its own
// process that prints its URL: a bare node:http2 echo (answers a POST with its
// body), and swamp's own Connect server stack (plugins/rpc/connect) whose
// GetRun returns a fixed answer with no token check and no store, run as
// `deno run -A bench/api_baselines.ts ANSWER.bin [CERT KEY]`. GetRun minus the
// stub is swamp's work per call; the stub minus the echo is the Connect stack's.
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { GetRunResponseSchema, RunService } from "../proto/gen/swamp/v1/run_service_pb.ts";
import { startServer } from "../plugins/rpc/connect/mod.ts";
import { systemPrincipal } from "../runtime/mod.ts";
import { deno, root } from "./lib.ts";

const echoProgram = `
import * as http2 from "node:http2";
const [cert, key] = Deno.args;
const server = cert
  ? http2.createSecureServer({ cert: Deno.readTextFileSync(cert), key: Deno.readTextFileSync(key) })
  : http2.createServer();
server.on("stream", (stream, headers) => {
  const chunks = [];
  stream.on("data", (chunk) => chunks.push(chunk));
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": headers["content-type"] ?? "application/octet-stream" });
    stream.end(Buffer.concat(chunks));
  });
});
server.listen(0, "127.0.0.1", () =>
  console.log((cert ? "https" : "http") + "://127.0.0.1:" + server.address().port));
Deno.addSignalListener("SIGTERM", () => server.close(() => Deno.exit(0)));
`;

export interface Baseline {
  url: string;
  close(): Promise<void>;
}

/** A process that prints its URL as its first line; stopped with SIGTERM. */
async function startBaseline(args: string[]): Promise<Baseline> {
  const child = new Deno.Command(deno, {
    args: ["run", "--quiet", "--no-prompt", "--allow-all", ...args],
    stdin: "null",
    stdout: "piped",
    // Deno's node:http2 server may abort with "free(): invalid pointer" when a
    // client ends a session that carried a few hundred streams: noise after the timing.
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`\`deno run ${args.join(" ")}\` exited before listening`);
    text += value;
  }
  reader.releaseLock();
  return {
    url: text.trim(),
    async close() {
      // It may be gone already: see the abort noted at stderr above.
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** A bare node:http2 server in its own process answering every POST with its body. */
export async function startEcho(dir: string, tls?: { cert: string; key: string }) {
  await Deno.writeTextFile(`${dir}/echo.mjs`, echoProgram);
  return await startBaseline([
    "--no-config",
    `${dir}/echo.mjs`,
    ...(tls ? [tls.cert, tls.key] : []),
  ]);
}

/** swamp's Connect server stack answering GetRun with `answer`, no auth, no store. */
export async function startStub(
  dir: string,
  answer: Uint8Array,
  tls?: { cert: string; key: string },
) {
  await Deno.writeFile(`${dir}/answer.bin`, answer);
  return await startBaseline([
    `--config=${root}/deno.json`,
    `${root}/bench/api_baselines.ts`,
    `${dir}/answer.bin`,
    ...(tls ? [tls.cert, tls.key] : []),
  ]);
}

/**
 * A plain node:http2 client session: POST `body` to GetRun as a Connect unary
 * call in binary (the protocol is just that: these headers and the message as
 * the body), read the whole answer, fail on any status but 200. The same
 * client for the echo and for swamp, so the ratio compares the servers.
 */
export function bareClient(url: string, ca?: string, token?: string) {
  const session = http2.connect(url, ca ? { ca } : {});
  session.on("error", () => {});
  return {
    call(body: Uint8Array): Promise<Uint8Array> {
      return new Promise((resolve, reject) => {
        const request = session.request({
          ":method": "POST",
          ":path": "/swamp.v1.RunService/GetRun",
          "content-type": "application/proto",
          "connect-protocol-version": "1",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        });
        let status = 0;
        const chunks: Buffer[] = [];
        request.on("response", (headers) => status = Number(headers[":status"]));
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          const answer = Buffer.concat(chunks);
          if (status === 200) resolve(answer);
          else reject(new Error(`HTTP ${status}: ${answer.toString().slice(0, 200)}`));
        });
        request.on("error", reject);
        request.end(Buffer.from(body));
      });
    },
    close: () => new Promise<void>((resolve) => session.close(() => resolve())),
  };
}

async function stubServer(): Promise<void> {
  const [answerFile, cert, key] = Deno.args;
  const answer = fromBinary(GetRunResponseSchema, await Deno.readFile(answerFile));
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    tls: cert
      ? { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) }
      : undefined,
    services: [{ service: RunService, impl: { getRun: () => answer } }],
    gate: { principalFor: () => Promise.resolve(systemPrincipal), authorize() {} },
    readMaxBytes: 16 * 1024 * 1024,
  });
  console.log(server.url);
  Deno.addSignalListener("SIGTERM", () => server.close().then(() => Deno.exit(0)));
}

if (import.meta.main) await stubServer();
