// Pinning against real TLS servers with certificates made by openssl in the test.
import * as tls from "node:tls";
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";
import { assertEquals, assertRejects } from "../../../test/helpers/mod.ts";
import { caSignedCert, pinOf, selfSignedCert, testCa } from "../../../test/helpers/tls.ts";
import { tlsOptionsFor } from "./pin.ts";

/** A TLS server presenting `certPem` (one certificate or a chain) until disposed. */
async function serveTls(certPem: string, keyPem: string) {
  const server = tls.createServer({ cert: certPem, key: keyPem }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = new URL(`https://127.0.0.1:${(server.address() as { port: number }).port}`);
  return {
    url,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Connects with `options` the way the client does; resolves with the verified certificate's fingerprint. */
function handshake(url: URL, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ...options }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint.replaceAll(":", "").toLowerCase());
    });
    socket.once("error", reject);
  });
}

const code = (wanted: ErrorCode) => (error: unknown) =>
  error instanceof SwampError && error.code === wanted;

Deno.test("pin alone: a self-signed certificate, and a CA-signed one served with its chain", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const self = await selfSignedCert(dir);
    await using selfServer = await serveTls(self.certPem, self.keyPem);
    const selfOptions = await tlsOptionsFor(selfServer.url, { pin: pinOf(self.fingerprint) });
    assertEquals(await handshake(selfServer.url, selfOptions), self.fingerprint);

    const leaf = await caSignedCert(await testCa(dir), dir);
    await using chained = await serveTls(leaf.certPem + leaf.caPem, leaf.keyPem);
    const options = await tlsOptionsFor(chained.url, { pin: pinOf(leaf.fingerprint) });
    assertEquals(await handshake(chained.url, options), leaf.fingerprint);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pin alone: a CA-signed certificate without its chain is a usage error naming the fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const leaf = await caSignedCert(await testCa(dir, { cn: "team-ca" }), dir);
    await using bare = await serveTls(leaf.certPem, leaf.keyPem);
    await assertRejects(
      () => tlsOptionsFor(bare.url, { pin: pinOf(leaf.fingerprint) }),
      (error) =>
        code(ErrorCode.USAGE)(error) &&
        (error as SwampError).message.includes("issued by team-ca") &&
        ((error as SwampError).hint ?? "").includes("--ca-cert"),
    );
    // With the CA given, the same pin verifies.
    const options = await tlsOptionsFor(bare.url, {
      pin: pinOf(leaf.fingerprint),
      caCert: leaf.caPem,
    });
    assertEquals(await handshake(bare.url, options), leaf.fingerprint);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pin: another certificate is pin_mismatch, before any request", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const served = await selfSignedCert(dir);
    const other = await selfSignedCert(`${dir}`, { cn: "other" });
    await using server = await serveTls(served.certPem, served.keyPem);
    await assertRejects(
      () => tlsOptionsFor(server.url, { pin: pinOf(other.fingerprint) }),
      code(ErrorCode.PIN_MISMATCH),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
