// Reaching the Docker engine: which socket, one client per socket, and an
// error that says how to start the engine when it does not answer.
import type Dockerode from "dockerode";

export type Docker = Dockerode;

const clients = new Map<string, Promise<Docker>>();

/** An address with a scheme other than unix:// (tcp://, ssh://, npipe://, …). */
const otherScheme = /^(?!unix:\/\/)[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The engine socket: the step's `socket`, else DOCKER_HOST (unix://…), else
 * the standard path. Throws EngineAddressUnsupported for any other scheme.
 */
export function socketPath(configured?: string): string {
  const given = configured ?? envHost();
  if (!given) return "/var/run/docker.sock";
  if (otherScheme.test(given)) throw new EngineAddressUnsupported(given);
  return given.startsWith("unix://") ? given.slice("unix://".length) : given;
}

function envHost(): string | undefined {
  try {
    return Deno.env.get("DOCKER_HOST") || undefined;
  } catch {
    return undefined;
  }
}

/** A client for `path`; dockerode is loaded on first use, so nothing else pays for it. */
export function client(path: string): Promise<Docker> {
  let made = clients.get(path);
  if (!made) {
    made = loadDockerode().then((Docker) => new Docker({ socketPath: path }));
    clients.set(path, made);
  }
  return made;
}

/**
 * dockerode is required from the checkout's node_modules at run time rather
 * than imported: the launcher bundles the CLI, and bundling breaks dockerode's
 * CommonJS dependencies (`__dirname is not defined`).
 */
async function loadDockerode(): Promise<typeof Dockerode> {
  // Imported here, not at the top: node:module brings in Deno's Node layer (about 30 ms), which
  // every command and supervisor that only registers this executor would pay.
  const { createRequire } = await import("node:module");
  const checkout = Deno.env.get("SWAMP_CHECKOUT") ??
    decodeURIComponent(new URL("../../../", import.meta.url).pathname);
  const require = createRequire(`${checkout.replace(/\/?$/, "/")}package.json`);
  return require("dockerode") as typeof Dockerode;
}

export class EngineUnreachable extends Error {
  readonly code = "executor_unavailable";
  constructor(path: string, cause: string) {
    super(
      `the Docker engine does not answer at ${path} (${cause}); start it (for example ` +
        "`sudo systemctl start docker`, or `dockerd &` as root) or point DOCKER_HOST or the " +
        "executor's `socket` at a running engine",
    );
  }
}

/** A DOCKER_HOST, `--docker-host` or `socket` naming an engine over TCP or SSH. */
export class EngineAddressUnsupported extends Error {
  readonly code = "executor_unavailable";
  constructor(address: string) {
    super(
      `the Docker engine address ${address} is not a unix socket: swamp reaches Docker through a ` +
        "local unix socket only (unix:///PATH or /PATH); run the step where the engine is (a " +
        "worker on that host), or forward the engine to a local socket, for example " +
        "`ssh -NL /tmp/docker.sock:/var/run/docker.sock HOST`",
    );
  }
}

/** Checks the engine answers; throws EngineUnreachable with how to fix it otherwise. */
export async function reachable(docker: Docker, path: string): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new EngineUnreachable(path, (error as Error).message ?? String(error));
  }
}

/** The HTTP status of a dockerode error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown }).statusCode;
  return typeof code === "number" ? code : undefined;
}
