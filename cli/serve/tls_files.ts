// The certificate `swamp serve` presents: given by the operator, or a
// self-signed one made once per repository and kept, so its fingerprint (what
// clients pin) stays the same across restarts.
import { ErrorCode, SwampError } from "../../runtime/mod.ts";
import { UsageError } from "../types.ts";

export interface TlsFiles {
  cert: string;
  key: string;
  /** Where they came from, for the start-up message. */
  certFile: string;
  selfSigned: boolean;
}

export async function readTlsFiles(certFile: string, keyFile: string): Promise<TlsFiles> {
  const read = async (flag: string, file: string) => {
    try {
      return await Deno.readTextFile(file);
    } catch (error) {
      throw new UsageError(`cannot read ${flag} ${file}: ${(error as Error).message}`);
    }
  };
  return {
    cert: await read("--tls-cert", certFile),
    key: await read("--tls-key", keyFile),
    certFile,
    selfSigned: false,
  };
}

/** The repository's self-signed serving certificate, made with openssl on first use. */
export async function selfSignedTls(repoRoot: string, hosts: string[]): Promise<TlsFiles> {
  const dir = `${repoRoot}/.swamp/tls`;
  const certFile = `${dir}/serve-cert.pem`;
  const keyFile = `${dir}/serve-key.pem`;
  const existing = await Promise.all([
    Deno.readTextFile(certFile).catch(() => undefined),
    Deno.readTextFile(keyFile).catch(() => undefined),
  ]);
  if (existing[0] && existing[1]) {
    return { cert: existing[0], key: existing[1], certFile, selfSigned: true };
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const names = new Set(["IP:127.0.0.1", "IP:::1", "DNS:localhost"]);
  for (const host of hosts) {
    names.add(/^[\d.]+$|:/.test(host) ? `IP:${host}` : `DNS:${host}`);
  }
  // Written under temporary names and renamed, so a crash never leaves half a pair.
  const temp = `${dir}/.new-${crypto.randomUUID()}`;
  // Our own config, not the system's: Debian's marks every self-signed certificate as a CA,
  // which strict clients (rustls in Deno's fetch) refuse as a server's own certificate.
  await Deno.writeTextFile(
    `${temp}.cnf`,
    [
      "[req]",
      "distinguished_name = dn",
      "x509_extensions = leaf",
      "prompt = no",
      "[dn]",
      "CN = swamp serve",
      "[leaf]",
      "basicConstraints = critical, CA:FALSE",
      "extendedKeyUsage = serverAuth",
      `subjectAltName = ${[...names].join(", ")}`,
      "",
    ].join("\n"),
  );
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("openssl", {
      args: [
        "req",
        "-config",
        `${temp}.cnf`,
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${temp}-key.pem`,
        "-out",
        `${temp}-cert.pem`,
        "-days",
        "825",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new SwampError(
      ErrorCode.EXECUTOR_UNAVAILABLE,
      "cannot run openssl to make a certificate",
      {
        cause: error,
        hint: "install openssl, or give your own certificate with --tls-cert and --tls-key",
      },
    );
  }
  await Deno.remove(`${temp}.cnf`).catch(() => {});
  if (!result.success) {
    throw new SwampError(ErrorCode.IO, "openssl could not make a self-signed certificate", {
      cause: new TextDecoder().decode(result.stderr).trim(),
      hint: "give your own certificate with --tls-cert and --tls-key",
    });
  }
  await Deno.chmod(`${temp}-key.pem`, 0o600);
  await Deno.rename(`${temp}-key.pem`, keyFile);
  await Deno.rename(`${temp}-cert.pem`, certFile);
  return {
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
    certFile,
    selfSigned: true,
  };
}

/** Whether a listen host only reaches this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (loopback). */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new UsageError(`--listen takes HOST:PORT, not \`${text}\``, "e.g. 127.0.0.1:7870");
  }
  return { host: match[1] ?? (match[2] || "127.0.0.1"), port };
}
