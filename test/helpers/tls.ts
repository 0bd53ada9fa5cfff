// Real test certificates made with the `openssl` command, so that TLS tests exercise the same
// X.509 parsing and verification as production instead of hand-built fixtures.

export interface CertOptions {
  /** Subject common name. */
  cn?: string;
  /** IP subjectAltNames; default 127.0.0.1 and ::1. */
  ips?: string[];
  /** DNS subjectAltNames; default localhost. */
  dnsNames?: string[];
  /** Validity in days; default 1. */
  days?: number;
}

export interface CertFiles {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER certificate, lower-case hex without colons. */
  fingerprint: string;
}

/** A certificate authority whose key signs server certificates in `caSignedCert`. */
export type TestCa = CertFiles;

export interface CaSignedCert extends CertFiles {
  caFile: string;
  caPem: string;
}

/** Make a self-signed P-256 server certificate in `dir`; trust it by putting it in `ca`. */
export async function selfSignedCert(dir: string, options: CertOptions = {}): Promise<CertFiles> {
  const { certFile, keyFile, configFile } = await paths(dir, "self-signed", options, "server");
  await openssl([
    "req",
    "-x509",
    ...newKeyArgs(keyFile),
    "-config",
    configFile,
    "-extensions",
    "server_ext",
    "-days",
    String(options.days ?? 1),
    "-out",
    certFile,
  ]);
  return await readCert(certFile, keyFile);
}

/** Make a P-256 certificate authority in `dir`. */
export async function testCa(
  dir: string,
  options: Pick<CertOptions, "cn" | "days"> = {},
): Promise<TestCa> {
  const cn = options.cn ?? "swamp-test-ca";
  const { certFile, keyFile, configFile } = await paths(dir, "ca", { ...options, cn }, "ca");
  await openssl([
    "req",
    "-x509",
    ...newKeyArgs(keyFile),
    "-config",
    configFile,
    "-extensions",
    "ca_ext",
    "-days",
    String(options.days ?? 1),
    "-out",
    certFile,
  ]);
  return await readCert(certFile, keyFile);
}

/** Make a P-256 server certificate in `dir`, signed by `ca`. */
export async function caSignedCert(
  ca: TestCa,
  dir: string,
  options: CertOptions = {},
): Promise<CaSignedCert> {
  const { certFile, keyFile, configFile } = await paths(dir, "server", options, "server");
  const csrFile = certFile.replace(/\.crt$/, ".csr");
  await openssl(["req", "-new", ...newKeyArgs(keyFile), "-config", configFile, "-out", csrFile]);
  await openssl([
    "x509",
    "-req",
    "-in",
    csrFile,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    // A random serial avoids a serial file and keeps certificates from one CA distinct.
    "-set_serial",
    `0x${randomHex(16)}`,
    "-sha256",
    "-days",
    String(options.days ?? 1),
    "-extfile",
    configFile,
    "-extensions",
    "server_ext",
    "-out",
    certFile,
  ]);
  await Deno.remove(csrFile);
  return { ...await readCert(certFile, keyFile), caFile: ca.certFile, caPem: ca.certPem };
}

/** The pin form of a fingerprint (either hex or colon-separated as Node prints it). */
export function pinOf(fingerprintHex: string): string {
  return `sha256:${normalizeFingerprint(fingerprintHex)}`;
}

/** `AB:CD:…` (Node's fingerprint256, openssl's output) → `abcd…`. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/^.*=/, "").replaceAll(":", "").trim().toLowerCase();
}

/** SHA-256 of the first certificate in a PEM text, lower-case hex. */
export async function certFingerprint(certPem: string): Promise<string> {
  const match = certPem.match(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/);
  if (!match) throw new Error("no PEM certificate found");
  const der = Uint8Array.from(atob(match[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function newKeyArgs(keyFile: string): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile];
}

async function paths(dir: string, prefix: string, options: CertOptions, kind: "ca" | "server") {
  // Unique names let a test make several certificates in one temporary directory.
  const base = `${dir}/${prefix}-${randomHex(4)}`;
  const configFile = `${base}.cnf`;
  await Deno.writeTextFile(configFile, opensslConfig(options, kind));
  return { certFile: `${base}.crt`, keyFile: `${base}.key`, configFile };
}

/**
 * A complete configuration of our own, so the result does not depend on the system's
 * openssl.cnf (Debian's adds CA:TRUE to every `req -x509` certificate, which strict TLS stacks
 * reject on a server certificate).
 */
function opensslConfig(options: CertOptions, kind: "ca" | "server"): string {
  const ips = options.ips ?? ["127.0.0.1", "::1"];
  const dnsNames = options.dnsNames ?? ["localhost"];
  const san = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((name) => `DNS:${name}`)];
  const cn = options.cn ?? "swamp-test";
  if (/[\n\\]/.test(cn)) throw new Error(`unsupported common name: ${JSON.stringify(cn)}`);
  return [
    "[req]",
    "distinguished_name = dn",
    "prompt = no",
    "[dn]",
    `CN = ${cn}`,
    "[ca_ext]",
    "basicConstraints = critical, CA:TRUE",
    "keyUsage = critical, keyCertSign, cRLSign",
    "subjectKeyIdentifier = hash",
    "[server_ext]",
    "basicConstraints = critical, CA:FALSE",
    // No keyUsage on purpose: OpenSSL treats a self-issued certificate whose keyUsage lacks
    // keyCertSign as not self-signed, and then refuses to trust it directly.
    "extendedKeyUsage = serverAuth",
    "subjectKeyIdentifier = hash",
    ...(kind === "server" && san.length > 0 ? [`subjectAltName = ${san.join(", ")}`] : []),
    "",
  ].join("\n");
}

async function readCert(certFile: string, keyFile: string): Promise<CertFiles> {
  const certPem = await Deno.readTextFile(certFile);
  const keyPem = await Deno.readTextFile(keyFile);
  return { certFile, keyFile, certPem, keyPem, fingerprint: await certFingerprint(certPem) };
}

async function openssl(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`openssl ${args[0]} failed (${code}): ${new TextDecoder().decode(stderr)}`);
  }
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}
