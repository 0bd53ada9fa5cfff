// A throwaway PostgreSQL cluster for tests: Debian's binaries, initdb in a
// fresh temporary directory, the server listening on a unix socket in that
// directory only (no TCP port), stopped by the pid in its postmaster.pid.
// As root (CI, these machines) the cluster belongs to the `postgres` user,
// since initdb refuses to run as root. Tests reach it only through
// capability("postgres") (capabilities.ts), so a machine without PostgreSQL
// reports them ignored, and CI fails instead.

import { outputWithin } from "./cli.ts";

/** The role every cluster is made with (`initdb -U`); trust authentication. */
export const clusterRole = "swamp";

export interface PostgresCluster {
  /** A DSN of the cluster's `postgres` database (unix socket, no password). */
  dsn: string;
  /** The data directory, which also holds the socket and the server's log (`log`). */
  dir: string;
  /** A DSN of a fresh, empty database of its own (`CREATE DATABASE`), for one test. */
  createDatabase(): Promise<string>;
  /** Runs SQL as the cluster's superuser through psql (for setup such as roles). */
  psql(sql: string, database?: string): Promise<string>;
  /**
   * Stops the server by pid (immediate shutdown: what a crash leaves), waits
   * `downMs`, and starts it again on the same directory and socket.
   */
  restart(downMs?: number): Promise<void>;
  /** Stops the server (by pid) and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The directory of `initdb` and its siblings: the newest /usr/lib/postgresql/N/bin, else PATH. */
export async function findPostgresBin(): Promise<string | undefined> {
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch { /* not Debian's layout */ }
  for (const version of versions.sort((a, b) => b - a)) {
    const bin = `/usr/lib/postgresql/${version}/bin`;
    if (await isFile(`${bin}/initdb`)) return bin;
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && await isFile(`${dir}/initdb`)) return dir;
  }
  return undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** `postgres`'s uid and gid when this process is root (initdb refuses root), else undefined. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (Deno.uid() !== 0) return undefined;
  for (const line of (await Deno.readTextFile("/etc/passwd")).split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === "postgres") return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error("running as root, and there is no `postgres` user to run the cluster as");
}

async function runAs(
  asPostgres: boolean,
  program: string,
  args: string[],
): Promise<string> {
  const [cmd, argv] = asPostgres
    ? ["runuser", ["-u", "postgres", "--", program, ...args]]
    : [program, args];
  const child = new Deno.Command(cmd, {
    args: argv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await outputWithin(child, `${program} ${args.join(" ")}`, 120_000);
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${program} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}${text}`,
    );
  }
  return text;
}

/** The DSN of `database` on the cluster whose socket is in `dir`. */
export function socketDsn(dir: string, database: string, user = clusterRole): string {
  return `postgres://${user}@/${database}?host=${encodeURIComponent(dir)}`;
}

/**
 * Starts a fresh cluster; the caller must `stop()` it (in a `finally`). It
 * skips the flushes a test does not need, and with them the promise that a
 * commit survives a crash of the server; `durable` keeps that promise (for a
 * test that restarts the server: without it a commit acknowledged a moment
 * before the crash may be gone after it).
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresCluster> {
  const bin = await findPostgresBin();
  if (!bin) throw new Error("no initdb found (apt-get install postgresql)");
  const owner = await serverUser();
  const dir = await Deno.makeTempDir({ prefix: "swamp-pg-" });
  if (owner) await Deno.chown(dir, owner.uid, owner.gid);
  const as = owner !== undefined;
  let pid: number | undefined;
  const stop = async () => {
    if (pid !== undefined) await stopServer(pid);
    pid = undefined;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const start = async () => {
    await runAs(as, `${bin}/pg_ctl`, [
      "-D",
      dir,
      "-o",
      // fsync and full-page writes guard against a crash of the machine, not of the server.
      `-k ${dir} -h '' -c fsync=off -c full_page_writes=off` +
      (options.durable ? "" : " -c synchronous_commit=off"),
      "-l",
      `${dir}/log`,
      "start",
      "-w",
    ]);
    pid = Number((await Deno.readTextFile(`${dir}/postmaster.pid`)).split("\n")[0]);
  };
  try {
    await runAs(as, `${bin}/initdb`, ["-D", dir, "-A", "trust", "-U", clusterRole, "-E", "UTF8"]);
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  let databases = 0;
  const psql = (sql: string, database = "postgres") =>
    runAs(false, `${bin}/psql`, [
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-At",
      "-d",
      socketDsn(dir, database),
      "-c",
      sql,
    ]);
  return {
    dsn: socketDsn(dir, "postgres"),
    dir,
    psql,
    async createDatabase() {
      const name = `t${++databases}_${crypto.randomUUID().slice(0, 8)}`;
      await psql(`CREATE DATABASE ${name}`);
      return socketDsn(dir, name);
    },
    async restart(downMs = 1000) {
      if (pid !== undefined) await stopServer(pid, "SIGQUIT");
      pid = undefined;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    stop,
  };
}

/** Fast shutdown (SIGINT; or `first`), then immediate (SIGQUIT) if it lingers, then SIGKILL. */
async function stopServer(pid: number, first: "SIGINT" | "SIGQUIT" = "SIGINT"): Promise<void> {
  const alive = () => {
    try {
      Deno.kill(pid, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  };
  for (
    const [signal, waitMs] of [[first, 5000], ["SIGQUIT", 5000], ["SIGKILL", 5000]] as const
  ) {
    if (!alive()) return;
    try {
      Deno.kill(pid, signal);
    } catch { /* gone already */ }
    for (const deadline = Date.now() + waitMs; Date.now() < deadline && alive();) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * One cluster shared by the tests of one file, started on first use and
 * stopped when the file's tests end (the process's unload), so every test of
 * the file needs only its own database. `stopNow` stops it at once.
 */
export function sharedPostgres(): { get(): Promise<PostgresCluster>; stopNow(): Promise<void> } {
  let cluster: Promise<PostgresCluster> | undefined;
  let started: PostgresCluster | undefined;
  // Synchronous: unload waits for nothing. No test of the file may have started one.
  globalThis.addEventListener("unload", () => started && stopAtExit(started.dir));
  return {
    get: () =>
      cluster ??= startPostgres().then((c) => {
        started = c;
        return c;
      }),
    async stopNow() {
      if (started) await started.stop();
      started = undefined;
      cluster = undefined;
    },
  };
}

/** Ends the server of the cluster in `dir` at once (SIGQUIT), its directory removed once it is gone. */
function stopAtExit(dir: string): void {
  let pid = 0;
  try {
    pid = Number(Deno.readTextFileSync(`${dir}/postmaster.pid`).split("\n")[0]);
    Deno.kill(pid, "SIGQUIT");
  } catch { /* already stopped */ }
  // The directory goes once the server is gone, by a shell that outlives this process.
  new Deno.Command("sh", {
    args: [
      "-c",
      'while [ "$1" -gt 0 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; done; rm -rf "$2"',
      "-",
      String(pid),
      dir,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn().unref();
}
