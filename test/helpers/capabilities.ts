// Whether this machine has what a test needs that a machine may lack (a
// Docker engine, network namespaces, PostgreSQL's server binaries), found by a real probe. A test that
// lacks one is registered as ignored with the reason in its name; under
// CI=true a missing capability is an error, never a skip: CI provides them.
// Tests never return early instead.

export type Capability = "docker" | "netns" | "pty" | "postgres";

export interface CapabilityCheck {
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
}

const probes: Record<Capability, () => Promise<CapabilityCheck>> = {
  docker: probeDocker,
  netns: probeNetns,
  pty: probePty,
  postgres: probePostgres,
};

const known = new Map<Capability, Promise<CapabilityCheck>>();

/** Probes `name` once per process; throws under CI=true when it is missing. */
export async function capability(name: Capability): Promise<CapabilityCheck> {
  let probe = known.get(name);
  if (!probe) known.set(name, probe = probes[name]());
  const check = await probe;
  if (!check.available && Deno.env.get("CI") === "true") {
    throw new Error(`CI=true but this machine lacks ${name}: ${check.reason}`);
  }
  return check;
}

/** Deno.test that runs only where `name` is available, else is ignored naming why. */
export async function testNeeding(
  name: Capability,
  title: string,
  fn: () => Promise<void>,
): Promise<void> {
  const check = await capability(name);
  Deno.test({
    name: check.available ? `[${name}] ${title}` : `[${name}] ${title} (skipped: ${check.reason})`,
    ignore: !check.available,
    fn,
  });
}

/** PostgreSQL's initdb (Debian's /usr/lib/postgresql/N/bin, or PATH): tests start their own clusters. */
async function probePostgres(): Promise<CapabilityCheck> {
  const { findPostgresBin } = await import("./postgres.ts");
  const bin = await findPostgresBin();
  if (!bin) {
    return {
      available: false,
      reason: "no initdb under /usr/lib/postgresql/*/bin or on PATH (apt-get install postgresql)",
    };
  }
  const version = await run(`${bin}/initdb`, ["--version"]);
  return version.ok
    ? { available: true }
    : { available: false, reason: `${bin}/initdb --version failed: ${version.text}` };
}

async function run(program: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stderr).trim() ||
      new TextDecoder().decode(out.stdout).trim();
    return { ok: out.success, text };
  } catch (error) {
    return { ok: false, text: `${program}: ${(error as Error).message}` };
  }
}

async function probeDocker(): Promise<CapabilityCheck> {
  const socket = (Deno.env.get("DOCKER_HOST") ?? "unix:///var/run/docker.sock")
    .replace(/^unix:\/\//, "");
  const out = await run("docker", ["version", "--format", "{{.Server.Version}}"]);
  return out.ok
    ? { available: true }
    : { available: false, reason: `no Docker engine answers at ${socket}; .ci/run starts one` };
}

/** Adds a throwaway namespace and deletes it: needs root (CAP_SYS_ADMIN) and iproute2. */
async function probeNetns(): Promise<CapabilityCheck> {
  const name = `swamp-probe-${crypto.randomUUID().slice(0, 8)}`;
  const added = await run("ip", ["netns", "add", name]);
  if (!added.ok) {
    return {
      available: false,
      reason: `\`ip netns add\` failed (needs root and iproute2): ${added.text}`,
    };
  }
  const deleted = await run("ip", ["netns", "delete", name]);
  return deleted.ok
    ? { available: true }
    : { available: false, reason: `\`ip netns delete ${name}\` failed: ${deleted.text}` };
}

/**
 * Runs a command on a pseudo-terminal with util-linux `script`, and measures
 * a process's peak memory with GNU time: the live-summary tests need both.
 */
async function probePty(): Promise<CapabilityCheck> {
  const script = await run("script", ["-qfec", "test -t 2", "/dev/null"]);
  if (!script.ok) {
    return { available: false, reason: `util-linux \`script\` cannot run a pty: ${script.text}` };
  }
  const time = await run("/usr/bin/time", ["-f", "%M", "true"]);
  return time.ok
    ? { available: true }
    : { available: false, reason: `GNU time (/usr/bin/time) is missing: ${time.text}` };
}
