// A real `swamp serve` for tests: started as a user would, its lifecycle read
// from its --json lines, stopped with SIGTERM (or killed with SIGKILL).
import { cliArgv, type CliResult, runCli } from "./cli.ts";
import { repoWith, type StoreKind } from "./runs.ts";
import { caSignedCert, testCa } from "./tls.ts";

export interface ServeProcess {
  url: string;
  /** `sha256:…` when it serves TLS, else "". */
  pin: string;
  pid: number;
  instance: string;
  /** Every lifecycle line printed so far, parsed. */
  events: Record<string, unknown>[];
  /** SIGTERM, then the exit status (drains). */
  stop(): Promise<number>;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
  /** The CLI against this server, with these extra flags (a token, a pin). */
  cli(args: string[], token?: string, extra?: string[]): Promise<CliResult>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts `swamp serve --json` for `repoRoot` on a free loopback port. */
export async function startServe(
  repoRoot: string,
  flags: string[] = [],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const [program, ...args] = cliArgv([
    "serve",
    "--repo",
    repoRoot,
    "--json",
    "--listen",
    "127.0.0.1:0",
    ...flags,
  ]);
  const child = new Deno.Command(program, {
    args,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const events: Record<string, unknown>[] = [];
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    (async () => {
      let buffer = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 1);
          if (!line.trim()) continue;
          let event;
          try {
            event = JSON.parse(line);
          } catch {
            // Not a lifecycle line (a failing command prints its error as indented JSON).
            event = { event: "text", line };
          }
          events.push(event);
          if (event.event === "listening") resolve(event);
        }
      }
      reject(new Error(`swamp serve exited before listening: ${await stderr}`));
    })().catch(reject);
  });
  const timeout = setTimeout(() => {
    if (!exited) child.kill("SIGKILL");
  }, 60_000);
  let started: Record<string, unknown>;
  try {
    started = await listening;
  } finally {
    clearTimeout(timeout);
  }
  const url = String(started.url);
  const pin = String(started.fingerprint ?? "");
  let stopping = false;
  const stop = async () => {
    stopping = true;
    if (!exited) child.kill("SIGTERM");
    const result = await status;
    const text = await stderr;
    // A drain that failed says why on stderr: the test's failure should show it.
    if (result.code !== 0) {
      const printed = events.filter((e) => e.event === "text").map((e) => e.line).join("\n");
      console.error(`swamp serve exited ${result.code}: ${text}${printed}`);
    }
    return result.code;
  };
  let killed = false;
  const kill = async () => {
    const diedOnItsOwn = exited && !killed;
    killed = true;
    if (!exited) child.kill("SIGKILL");
    const result = await status;
    const text = await stderr;
    // A server that died before the test ended it explains a test's strange failure: say so.
    if (diedOnItsOwn && !stopping) {
      throw new Error(`swamp serve exited during the test (status ${result.code}): ${text}`);
    }
  };
  return {
    url,
    pin,
    pid: child.pid,
    instance: String(started.instance),
    events,
    stop,
    kill,
    cli: (args, token, extra = []) =>
      runCli([
        ...args,
        "--server",
        url,
        ...(pin ? ["--pin", pin] : []),
        ...(token ? ["--token", token] : []),
        ...extra,
      ]),
    async [Symbol.asyncDispose]() {
      await kill();
    },
  };
}

/** Mints a token in the repository as its OS user would, returning `NAME.SECRET`. */
export async function mintToken(repoRoot: string, name: string, role: string): Promise<string> {
  const result = await runCli([
    "auth",
    "token",
    "create",
    name,
    "--role",
    role,
    "--repo",
    repoRoot,
    "-q",
  ]);
  if (result.code !== 0) throw new Error(`minting ${name} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * A repository with `files` and `store`, a token `name` with `role`, a test CA
 * and a `swamp serve` presenting a certificate that CA signed; all removed on
 * dispose.
 */
export async function serveWithTestCa(
  store: StoreKind,
  files: Record<string, string>,
  name: string,
  role: string,
) {
  const repo = await repoWith(store, files);
  const dir = await Deno.makeTempDir({ prefix: "swamp-serve-tls-" });
  const ca = await testCa(dir);
  const cert = await caSignedCert(ca, dir);
  const token = await mintToken(repo.root, name, role);
  const server = await startServe(repo.root, [
    "--tls-cert",
    cert.certFile,
    "--tls-key",
    cert.keyFile,
  ]);
  return {
    repo,
    server,
    token,
    ca,
    cert,
    async [Symbol.asyncDispose]() {
      await server.kill();
      await repo[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
