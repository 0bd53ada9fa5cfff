import { connect, createServer, type PeerCertificate, type Server } from "node:tls";
import type { AddressInfo } from "node:net";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  caSignedCert,
  type CertFiles,
  certFingerprint,
  normalizeFingerprint,
  pinOf,
  selfSignedCert,
  testCa,
} from "./tls.ts";

const UNTRUSTED = "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
const WRONG_NAME = "ERR_TLS_CERT_ALTNAME_INVALID";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-tls-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function opensslFingerprint(certFile: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"],
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return normalizeFingerprint(new TextDecoder().decode(out.stdout));
}

async function startServer(cert: CertFiles): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => {
    socket.end("hello");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function stopServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

type Handshake =
  | { ok: true; peer: PeerCertificate; data: string }
  | { ok: false; error: Error & { code?: string } };

function assertRefused(result: Handshake, code: string, why: string): void {
  assert(!result.ok, why);
  assertEquals(result.error.code, code, `${why}: ${result.error.message}`);
}

/** Connect, read the greeting to its end, and report how the handshake went. */
function handshake(port: number, ca: string, servername?: string): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername });
    let data = "";
    let peer: PeerCertificate | undefined;
    socket.setEncoding("utf8");
    socket.on("secureConnect", () => peer = socket.getPeerCertificate());
    socket.on("data", (chunk: string) => data += chunk);
    socket.on("error", (error: Error) => {
      socket.destroy();
      resolve({ ok: false, error });
    });
    socket.on("end", () => {
      socket.end();
      resolve(peer ? { ok: true, peer, data } : { ok: false, error: new Error("no peer") });
    });
  });
}

Deno.test("selfSignedCert: fingerprint matches openssl and a TLS handshake", async () => {
  await withTempDir(async (dir) => {
    const cert = await selfSignedCert(dir);
    assertMatch(cert.fingerprint, /^[0-9a-f]{64}$/);
    assertEquals(cert.fingerprint, await opensslFingerprint(cert.certFile));
    assertEquals(await Deno.readTextFile(cert.keyFile), cert.keyPem);
    assertEquals(pinOf(cert.fingerprint), `sha256:${cert.fingerprint}`);

    const { server, port } = await startServer(cert);
    try {
      // Pinning as the CLI does it: the certificate itself is the only trusted root.
      const byIp = await handshake(port, cert.certPem);
      assert(byIp.ok, byIp.ok ? "" : byIp.error.message);
      assertEquals(byIp.data, "hello");
      assertEquals(normalizeFingerprint(byIp.peer.fingerprint256), cert.fingerprint);
      assertEquals(pinOf(byIp.peer.fingerprint256), pinOf(cert.fingerprint));

      const byName = await handshake(port, cert.certPem, "localhost");
      assert(byName.ok, byName.ok ? "" : byName.error.message);

      const other = await selfSignedCert(dir);
      assert(other.fingerprint !== cert.fingerprint);
      const wrong = await handshake(port, other.certPem);
      assertRefused(wrong, UNTRUSTED, "a different self-signed certificate must not be trusted");
    } finally {
      await stopServer(server);
    }
  });
});

Deno.test("caSignedCert: trusted through its CA only, and names are checked", async () => {
  await withTempDir(async (dir) => {
    const ca = await testCa(dir);
    const cert = await caSignedCert(ca, dir, { cn: "swamp-server" });
    assertEquals(cert.caFile, ca.certFile);
    assertEquals(cert.caPem, ca.certPem);
    assertEquals(ca.fingerprint, await opensslFingerprint(ca.certFile));
    assertEquals(cert.fingerprint, await opensslFingerprint(cert.certFile));

    const { server, port } = await startServer(cert);
    try {
      const good = await handshake(port, ca.certPem);
      assert(good.ok, good.ok ? "" : good.error.message);
      assertEquals(good.peer.subject.CN, "swamp-server");
      assertEquals(normalizeFingerprint(good.peer.fingerprint256), cert.fingerprint);

      const otherCa = await testCa(dir);
      const wrongCa = await handshake(port, otherCa.certPem);
      assertRefused(wrongCa, UNTRUSTED, "a certificate from another CA must not be trusted");

      const wrongName = await handshake(port, ca.certPem, "elsewhere.example");
      assertRefused(wrongName, WRONG_NAME, "a name outside the subjectAltName must be refused");
    } finally {
      await stopServer(server);
    }
  });
});

Deno.test("caSignedCert: custom subjectAltNames replace the defaults", async () => {
  await withTempDir(async (dir) => {
    const ca = await testCa(dir);
    const cert = await caSignedCert(ca, dir, { ips: [], dnsNames: ["swamp.test"] });
    const { server, port } = await startServer(cert);
    try {
      const byIp = await handshake(port, ca.certPem);
      assertRefused(byIp, WRONG_NAME, "127.0.0.1 is no longer in the certificate");
      const byName = await handshake(port, ca.certPem, "swamp.test");
      assert(byName.ok, byName.ok ? "" : byName.error.message);
    } finally {
      await stopServer(server);
    }
  });
});

Deno.test("certFingerprint and pinOf normalise their input", async () => {
  await withTempDir(async (dir) => {
    const cert = await selfSignedCert(dir);
    assertEquals(await certFingerprint(`junk\n${cert.certPem}`), cert.fingerprint);
    const colons = cert.fingerprint.toUpperCase().match(/../g)!.join(":");
    assertEquals(pinOf(colons), `sha256:${cert.fingerprint}`);
    assertEquals(normalizeFingerprint(`sha256 Fingerprint=${colons}\n`), cert.fingerprint);
  });
});
