// Certificate pinning that really pins (see shared stack notes): the pinned
// certificate becomes the only trusted CA and checkServerIdentity compares
// its fingerprint again on the real connection. With a pin and no CA file,
// the certificate is first fetched and checked on its own connection, so a
// wrong pin fails before any request is sent; a CA-signed certificate is
// trusted through the root of the chain the server presents.
import { Buffer } from "node:buffer";
import * as tls from "node:tls";
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";

export interface TrustOptions {
  /** PEM text of a CA (or the server's own certificate) to trust instead of the system's. */
  caCert?: string;
  /** `sha256:HEX` (colons and case ignored). */
  pin?: string;
}

/** Normalises `sha256:AB:CD…` to lower-case hex; throws usage for anything else. */
export function parsePin(pin: string): string {
  const match = /^sha256:([0-9a-fA-F:]+)$/.exec(pin.trim());
  const hex = match?.[1].replaceAll(":", "").toLowerCase() ?? "";
  if (hex.length !== 64) {
    throw new SwampError(ErrorCode.USAGE, `\`${pin}\` is not a certificate pin`, {
      hint: "give sha256: and the 64 hex digits `swamp serve` printed as its fingerprint",
    });
  }
  return hex;
}

const normalise = (fingerprint256: string) => fingerprint256.replaceAll(":", "").toLowerCase();

function mismatch(expected: string, actual: string, url: URL): SwampError {
  return new SwampError(
    ErrorCode.PIN_MISMATCH,
    `the certificate of ${url.host} does not match the pin: it is sha256:${actual}, the pin is sha256:${expected}`,
    {
      hint: "the server changed its certificate or this is not the server you meant; " +
        "check the fingerprint `swamp serve` printed and pass it with --pin",
    },
  );
}

/** Node TLS options for connections to `url` under these trust options. */
export async function tlsOptionsFor(
  url: URL,
  trust: TrustOptions,
  timeoutMs = 10_000,
): Promise<tls.ConnectionOptions> {
  if (url.protocol !== "https:") return {};
  if (!trust.pin) return trust.caCert ? { ca: trust.caCert } : {};
  const expected = parsePin(trust.pin);
  const ca = trust.caCert ?? cachedCertificate(expected) ??
    rememberCertificate(expected, await fetchPinnedCertificate(url, expected, timeoutMs));
  return {
    ca,
    checkServerIdentity: (host, cert) => {
      const actual = normalise(cert.fingerprint256);
      if (actual !== expected) return mismatch(expected, actual, url);
      // With a CA file the name must match as usual; with a pin alone the pin is the identity.
      return trust.caCert ? tls.checkServerIdentity(host, cert) : undefined;
    },
  };
}

/**
 * Where a certificate that matched a pin is kept, so later commands skip the
 * extra handshake. Safe to trust as it stands: the real connection still
 * requires the server's certificate to have exactly the pinned fingerprint.
 */
function pinCacheDir(): string | undefined {
  const home = Deno.env.get("HOME");
  const base = Deno.env.get("XDG_CACHE_HOME") || (home ? `${home}/.cache` : undefined);
  return base ? `${base}/swamp/pins` : undefined;
}

function cachedCertificate(pin: string): string | undefined {
  const dir = pinCacheDir();
  if (!dir) return undefined;
  try {
    return Deno.readTextFileSync(`${dir}/${pin}.pem`);
  } catch {
    return undefined;
  }
}

function rememberCertificate(pin: string, pem: string): string {
  const dir = pinCacheDir();
  if (!dir) return pem;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = `${dir}/.${pin}.${crypto.randomUUID()}`;
    Deno.writeTextFileSync(temp, pem);
    Deno.renameSync(temp, `${dir}/${pin}.pem`);
  } catch {
    // A cache that cannot be written only costs the next command a handshake.
  }
  return pem;
}

/** Connects once without trusting anything, reads the certificate, and checks it against the pin. */
function fetchPinnedCertificate(url: URL, expected: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 443),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unreachable(url, new Error(`no TLS handshake within ${timeoutMs} ms`)));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate(true);
      socket.end();
      const actual = normalise(cert.fingerprint256 ?? "");
      if (actual !== expected) return reject(mismatch(expected, actual, url));
      try {
        resolve(trustAnchors(cert, url));
      } catch (error) {
        reject(error);
      }
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(unreachable(url, error));
    });
  });
}

function pem(cert: tls.PeerCertificate): string {
  // Deno hands `raw` over as a plain Uint8Array, whose toString ignores "base64".
  const base64 = Buffer.from(cert.raw).toString("base64").replace(/(.{64})/g, "$1\n").trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

const selfIssued = (cert: tls.PeerCertificate) =>
  JSON.stringify(cert.subject) === JSON.stringify(cert.issuer);

/**
 * What to trust so that the pinned certificate verifies: itself when it is
 * self-signed; else the chain the server presents up to its self-signed root
 * (OpenSSL cannot end a chain at a certificate that is not self-signed). The
 * pin is what authenticates either way: the real connection must present
 * exactly the pinned certificate.
 */
function trustAnchors(leaf: tls.DetailedPeerCertificate, url: URL): string {
  if (selfIssued(leaf)) return pem(leaf);
  const chain: string[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = leaf.issuerCertificate;
  while (cert && chain.length < 10) {
    chain.push(pem(cert));
    if (selfIssued(cert)) return chain.join("");
    cert = cert.issuerCertificate === cert ? undefined : cert.issuerCertificate;
  }
  const issuer = leaf.issuer?.CN ?? JSON.stringify(leaf.issuer);
  throw new SwampError(
    ErrorCode.USAGE,
    `the certificate of ${url.host} matches the pin but is issued by ${issuer}, whose ` +
      "certificate the server does not send, so it cannot be verified from the pin alone",
    {
      hint: "pass that CA's certificate with --ca-cert (the pin still applies), or serve the " +
        "full chain (server certificate, then its CA)",
    },
  );
}

function unreachable(url: URL, cause: Error): SwampError {
  return new SwampError(ErrorCode.UNAVAILABLE, `cannot reach the server at ${url.origin}`, {
    cause,
    hint: "check that `swamp serve` is running there and that the address is right",
  });
}
