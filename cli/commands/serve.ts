import {
  anonymousPrincipal,
  authenticate,
  authenticatesItself,
  authorize,
  describeCause,
  ErrorCode,
  SwampError,
  systemClock,
} from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { UsageError } from "../types.ts";
import { startOrchestrator } from "../serve/orchestrator.ts";
import {
  isLoopback,
  parseListen,
  readTlsFiles,
  selfSignedTls,
  type TlsFiles,
} from "../serve/tls_files.ts";
import { parseDuration } from "../duration.ts";
import { WorkerService } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { CapabilityService } from "../../proto/gen/swamp/v1/capability_service_pb.ts";

/** The largest request message the server reads (documented in docs/reference/api.md). */
export const maxRequestBytes = 16 * 1024 * 1024;

export async function run(ctx: CommandContext): Promise<number> {
  const { host, port } = parseListen(flag(ctx, "listen") ?? "127.0.0.1:7870");
  const tls = await tlsFor(ctx, host);
  if (!tls && !isLoopback(host) && ctx.flags.insecure !== true) {
    throw new UsageError(
      `refusing to serve ${host} without TLS: tokens and run data would cross the network in clear`,
      "add --tls-self-signed (or --tls-cert F --tls-key F); or --insecure if something else encrypts the link",
    );
  }
  const drainMs = parseDuration(flag(ctx, "drain-timeout") ?? "30s", "--drain-timeout");
  // Listened for from here on: until a listener is added, SIGTERM's default ends the process at
  // once (exit 143), and a supervisor that reads "listening" may send it the moment it is printed.
  // One sent while starting drains as soon as the server is up.
  const stop = stopSignal();
  try {
    return await serve(ctx, host, port, tls, drainMs, stop.received);
  } finally {
    stop.dispose();
  }
}

async function serve(
  ctx: CommandContext,
  host: string,
  port: number,
  tls: TlsFiles | undefined,
  drainMs: number,
  stopReceived: Promise<void>,
): Promise<number> {
  const lifecycle = (event: string, fields: Record<string, unknown> = {}, text?: string) => {
    if (ctx.out.json) {
      ctx.out.raw(`${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`);
    } else if (text) ctx.out.info(text);
  };
  const workerGraceMs = parseDuration(flag(ctx, "worker-grace") ?? "30s", "--worker-grace");
  const orchestrator = await startOrchestrator(ctx.locator, {
    runStarted: (runId) => lifecycle("run_owned", { runId }),
    runSettled: (runId, error) =>
      lifecycle("run_released", error ? { runId, error: describeCause(error) } : { runId }),
    error: (where, error) =>
      lifecycle(
        "error",
        { where, error: describeCause(error) },
        `serve: ${where}: ${describeCause(error)}`,
      ),
    worker: ({ event, ...fields }) =>
      lifecycle(event, fields, `serve: ${event.replace("_", " ")} ${JSON.stringify(fields)}`),
    takeover: (from, runs) =>
      lifecycle(
        "takeover",
        { from, runs },
        `serve: instance ${from} stopped heartbeating; taking over ${runs.length} run(s)`,
      ),
  }, {
    workerGraceMs,
    passEnv: passEnvNames(ctx.flags["pass-env"]),
    runsNice: runsNice(flag(ctx, "runs-nice")),
  });
  const reconciled = await orchestrator.reconcileOnStart();
  if (reconciled > 0) {
    lifecycle(
      "reconciled",
      { runs: reconciled },
      `reconciled ${reconciled} run(s) a previous server left`,
    );
  }
  const { startServer } = await import("../../plugins/rpc/connect/mod.ts");
  const server = await startServer({
    host,
    port,
    tls: tls ? { cert: tls.cert, key: tls.key } : undefined,
    services: orchestrator.services,
    readMaxBytes: maxRequestBytes,
    gate: {
      principalFor: (authorization) => authenticate(orchestrator.store, authorization, systemClock),
      authorize,
      authenticatesItself,
      anonymous: anonymousPrincipal,
      onError: (error, method) => {
        if (error instanceof SwampError && error.code !== ErrorCode.INTERNAL) return;
        lifecycle(
          "error",
          { where: method, error: describeCause(error) },
          `serve: ${method}: ${describeCause(error)}`,
        );
      },
    },
  }).catch((error) => {
    throw new SwampError(ErrorCode.UNAVAILABLE, `cannot listen on ${host}:${port}`, {
      cause: error,
      hint: "pick another port with --listen, or stop what already listens there",
    });
  });
  const pin = server.fingerprint ? `sha256:${server.fingerprint}` : "";
  lifecycle("listening", {
    url: server.url,
    fingerprint: pin,
    instance: orchestrator.instance,
    repo: await ctx.locator.root(),
    pid: Deno.pid,
    selfSigned: tls?.selfSigned ?? false,
  });
  if (!ctx.out.json) {
    ctx.out.line(`swamp serve listening on ${server.url}`);
    if (pin) ctx.out.line(`certificate fingerprint ${pin}`);
    ctx.out.info(
      pin
        ? `clients: --server ${server.url} --pin ${pin} --token NAME.SECRET`
        : `clients: --server ${server.url} --token NAME.SECRET (plain HTTP/2, loopback only)`,
    );
  }
  await stopReceived;
  lifecycle(
    "draining",
    { owned: orchestrator.owned().length },
    "draining: no new calls; waiting for owned runs",
  );
  // Workers' streams and their steps' capability calls go on while the runs settle or are
  // handed over: a step on a worker can still report its end, or be cancelled.
  server.stopAccepting([WorkerService.typeName, CapabilityService.typeName]);
  let closed: Promise<void> | undefined;
  const { cancelled, handedOver } = await orchestrator.drain(
    drainMs,
    () => closed ??= server.close(),
  );
  await (closed ??= server.close());
  await orchestrator.close();
  lifecycle("stopped", { cancelled, handedOver }, stoppedText(cancelled, handedOver, drainMs));
  return 0;
}

function stoppedText(
  cancelled: string[],
  handedOver: { runId: string; to?: string }[],
  drainMs: number,
): string {
  const parts: string[] = [];
  if (handedOver.length > 0) {
    const to = [...new Set(handedOver.map((h) => h.to ?? "whichever instance claims it"))];
    parts.push(`handed ${handedOver.length} run(s) over to ${to.join(", ")}`);
  }
  if (cancelled.length > 0) {
    parts.push(
      `cancelled ${cancelled.length} run(s) still running a step here after ${drainMs} ms`,
    );
  }
  return parts.length > 0 ? `stopped; ${parts.join("; ")}` : "stopped";
}

function flag(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.flags[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

async function tlsFor(ctx: CommandContext, host: string): Promise<TlsFiles | undefined> {
  const certFile = flag(ctx, "tls-cert");
  const keyFile = flag(ctx, "tls-key");
  if (ctx.flags["tls-self-signed"] === true) {
    if (certFile || keyFile) {
      throw new UsageError("--tls-self-signed and --tls-cert/--tls-key exclude each other");
    }
    return await selfSignedTls(await ctx.locator.root(), [host]);
  }
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new UsageError("--tls-cert and --tls-key go together");
  return await readTlsFiles(certFile, keyFile);
}

/** `received` resolves at SIGTERM or SIGINT (Ctrl-C): both drain. */
function stopSignal(): { received: Promise<void>; dispose: () => void } {
  const signals = ["SIGTERM", "SIGINT"] as const;
  let resolve = () => {};
  const received = new Promise<void>((done) => resolve = done);
  const dispose = () => {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  };
  const onSignal = () => {
    dispose();
    resolve();
  };
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  return { received, dispose };
}

/** `--pass-env NAME` (repeatable): environment variable names, checked. */
function runsNice(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const nice = Number(value);
  if (!/^\d+$/.test(value) || nice > 19) {
    throw new UsageError(
      `--runs-nice ${value} is not a nice value from 0 to 19`,
      "give a whole number: 0 runs steps at the server's own priority, 19 at the lowest",
    );
  }
  return nice;
}

function passEnvNames(value: unknown): string[] {
  const names = Array.isArray(value) ? value.map(String) : [];
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(
        `--pass-env \`${name}\` is not an environment variable name`,
        "give one name per --pass-env, e.g. --pass-env HTTPS_PROXY --pass-env LANG",
      );
    }
  }
  return names;
}
