// The PostgreSQL store end to end, through the real CLI: a repository made
// with `repo init --store postgres` on a throwaway cluster whose role needs a
// password (scram-sha-256), given only by `--password-file`; a three-step
// workflow run, its status and logs read back; SWAMP_STORE_DSN overriding the
// DSN; and the password never written anywhere: not in the repository (every
// file, .swamp/ included), not in the server's log, not in any output or error.
import { testNeeding } from "../helpers/capabilities.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";
import { initRepo, shellStep, workflowFile } from "../helpers/runs.ts";
import { type PostgresCluster, socketDsn, startPostgres } from "../helpers/postgres.ts";
import { mintToken, startServe } from "../helpers/serve.ts";
import { vaultEnv, vaultPut } from "../helpers/vault.ts";

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const bytes = new TextEncoder().encode(needle);
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(full);
      else if (entry.isFile && contains(await Deno.readFile(full), bytes)) found.push(full);
    }
  };
  await walk(dir);
  return found;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Role `app` owning database `appdb`, which must give its (random) password: scram-sha-256. */
async function passwordRole(cluster: PostgresCluster): Promise<{ password: string; dsn: string }> {
  const password = `pw-${crypto.randomUUID()}`;
  await cluster.psql(`CREATE ROLE app LOGIN PASSWORD '${password}'`);
  await cluster.psql("CREATE DATABASE appdb OWNER app");
  // A scram line ahead of initdb's trust lines.
  const hba = `${cluster.dir}/pg_hba.conf`;
  await Deno.writeTextFile(hba, `local appdb app scram-sha-256\n${await Deno.readTextFile(hba)}`);
  await cluster.psql("SELECT pg_reload_conf()");
  return { password, dsn: socketDsn(cluster.dir, "appdb", "app") };
}

await testNeeding(
  "postgres",
  "postgres store: repo init, a three-step run, status and logs, and the password nowhere",
  async () => {
    const cluster = await startPostgres();
    const work = await Deno.makeTempDir({ prefix: "swamp-pg-e2e-" });
    try {
      const { password, dsn } = await passwordRole(cluster);
      const root = `${work}/repo`;
      const secrets = `${work}/secrets`;
      await Deno.mkdir(secrets, { mode: 0o700 });
      const passwordFile = `${secrets}/pg-password`;
      const outputs: string[] = [];
      const cli = async (args: string[], env?: Record<string, string>) => {
        const result = await runCli(args, { cwd: work, env });
        outputs.push(result.stdout, result.stderr);
        return result;
      };

      // A password in the DSN is refused before anything is made, and not repeated.
      const withSecret = dsn.replace("app@", `app:${password}@`);
      const refused = await cli(["repo", "init", root, "--store", "postgres", "--dsn", withSecret]);
      assertEquals(refused.code, 2, refused.stderr);
      assertMatch(refused.stderr, /^error\[usage\]: the --dsn value contains a password/m);
      assertMatch(refused.stderr, /passwordFile/);
      let made = true;
      await Deno.stat(root).catch(() => made = false);
      assert(!made, "repo init made the repository despite the refusal");

      // No password, then a wrong one: the role is refused (store_unreachable, exit 14).
      const none = await cli(["repo", "init", root, "--store", "postgres", "--dsn", dsn]);
      assertEquals(none.code, 14, none.stderr);
      assertMatch(none.stderr, /^error\[store_unreachable\]: .*database appdb, user app: /m);
      await Deno.writeTextFile(passwordFile, "not-the-password\n", { mode: 0o600 });
      const wrong = await cli([
        "repo",
        "init",
        root,
        "--store",
        "postgres",
        "--dsn",
        dsn,
        "--password-file",
        passwordFile,
      ]);
      assertEquals(wrong.code, 14, wrong.stderr);
      assertMatch(wrong.stderr, /the server refused the role/);

      await Deno.writeTextFile(passwordFile, `${password}\n`, { mode: 0o600 });
      const init = await cli([
        "repo",
        "init",
        root,
        "--store",
        "postgres",
        "--dsn",
        dsn,
        "--password-file",
        passwordFile,
        "--json",
      ]);
      assertEquals(init.code, 0, init.stderr);
      assertEquals((init.json as { store: string }).store, "postgres");
      const config = await Deno.readTextFile(`${root}/.swamp.yaml`);
      assertMatch(config, /^store: postgres$/m);
      assertMatch(config, new RegExp(`^passwordFile: ${passwordFile}$`, "m"));
      assert(config.includes(`dsn: ${dsn}`), config);

      const steps = ["one", "two", "three"].map((name) => shellStep(name, `echo step-${name}`))
        .join("");
      await Deno.mkdir(`${root}/workflows`, { recursive: true });
      await Deno.writeTextFile(`${root}/workflows/workflow-trio.yaml`, workflowFile("trio", steps));
      const run = await cli(["workflow", "run", "trio", "--repo", root, "--json"]);
      assertEquals(run.code, 0, run.stderr);
      const runId = (run.json as { run: { id: string } }).run.id;
      assert(runId, run.stdout);

      const status = await cli(["workflow", "status", runId, "--repo", root, "--json"]);
      assertEquals(status.code, 0, status.stderr);
      const shown = (status.json as { run: { status: string; steps: { status: string }[] } }).run;
      assertEquals(shown.status, "succeeded");
      assertEquals(shown.steps.map((s) => s.status), ["succeeded", "succeeded", "succeeded"]);
      const logs = await cli(["workflow", "logs", runId, "--repo", root]);
      assertEquals(logs.code, 0, logs.stderr);
      for (const name of ["one", "two", "three"]) assert(logs.stdout.includes(`step-${name}`));

      const migrate = await cli(["store", "migrate", "--dry-run", "--json", "--repo", root]);
      assertEquals(migrate.code, 0, migrate.stderr);
      assertEquals((migrate.json as { pending: unknown[] }).pending, []);

      // SWAMP_STORE_DSN overrides .swamp.yaml: another (empty) database lists no runs.
      const other = await cluster.createDatabase();
      const elsewhere = await cli(["workflow", "list", "--json", "--repo", root], {
        SWAMP_STORE_DSN: other,
      });
      assertEquals(elsewhere.code, 0, elsewhere.stderr);
      assertEquals((elsewhere.json as { runs: unknown[] }).runs, []);
      const here = await cli(["workflow", "list", "--json", "--repo", root]);
      assertEquals((here.json as { runs: { id: string }[] }).runs.map((r) => r.id), [runId]);
      const leaky = await cli(["workflow", "list", "--repo", root], {
        SWAMP_STORE_DSN: withSecret,
      });
      assertEquals(leaky.code, 2, leaky.stderr);
      assertMatch(leaky.stderr, /^error\[usage\]: SWAMP_STORE_DSN contains a password/m);

      assertEquals(await filesContaining(root, password), []);
      const serverLog = await Deno.readTextFile(`${cluster.dir}/log`);
      assert(!serverLog.includes(password), "the server's log holds the password");
      for (const text of outputs) assert(!text.includes(password), `an output holds it:\n${text}`);
    } finally {
      await cluster.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
);

await testNeeding(
  "postgres",
  "postgres store: the password from the repository's vault (password: vault:VAULT/KEY)",
  async () => {
    const cluster = await startPostgres();
    const work = await Deno.makeTempDir({ prefix: "swamp-pg-vault-" });
    try {
      const { password, dsn } = await passwordRole(cluster);
      const env = vaultEnv(work);
      const root = `${work}/repo`;
      const passwordFile = `${work}/pg-password`;
      await Deno.writeTextFile(passwordFile, password, { mode: 0o600 });
      const cli = (args: string[]) => runCli([...args, "--repo", root], { cwd: work, env });
      const init = await runCli(
        [
          "repo",
          "init",
          root,
          "--store",
          "postgres",
          "--dsn",
          dsn,
          "--password-file",
          passwordFile,
        ],
        { env },
      );
      assertEquals(init.code, 0, init.stderr);
      assertEquals((await cli(["vault", "create", "ops"])).code, 0);
      assertEquals((await vaultPut(root, "ops", "pg", password, env)).code, 0);
      // From now on the password comes from the vault only.
      await Deno.remove(passwordFile);
      const config = (await Deno.readTextFile(`${root}/.swamp.yaml`))
        .replace(/^passwordFile: .*$/m, "password: vault:ops/pg");
      await Deno.writeTextFile(`${root}/.swamp.yaml`, config);
      const list = await cli(["workflow", "list", "--json"]);
      assertEquals(list.code, 0, list.stderr);
      assertEquals((list.json as { runs: unknown[] }).runs, []);
      // A literal password under `password:` is refused, and not repeated.
      await Deno.writeTextFile(
        `${root}/.swamp.yaml`,
        config.replace("password: vault:ops/pg", `password: ${password}`),
      );
      const literal = await cli(["workflow", "list"]);
      assertEquals(literal.code, 2, literal.stderr);
      assertMatch(literal.stderr, /must name a vault secret as vault:VAULT\/KEY/);
      assert(!literal.stderr.includes(password));
    } finally {
      await cluster.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
);

await testNeeding(
  "postgres",
  "postgres store: swamp serve (its API and run threads) on the store, tokens kept in it",
  async () => {
    const cluster = await startPostgres();
    const work = await Deno.makeTempDir({ prefix: "swamp-pg-serve-" });
    try {
      const root = `${work}/repo`;
      const init = await runCli([
        "repo",
        "init",
        root,
        "--store",
        "postgres",
        "--dsn",
        await cluster.createDatabase(),
      ]);
      assertEquals(init.code, 0, init.stderr);
      // Init again naming another database: the repository stays as it is, that database untouched.
      const other = await cluster.createDatabase();
      const again = await runCli(["repo", "init", root, "--store", "postgres", "--dsn", other]);
      assertEquals(again.code, 0, again.stderr);
      assertMatch(again.stdout, /already a swamp repository \(store: postgres\); nothing changed/);
      const otherDb = /@\/([^?]+)/.exec(other)![1];
      assertEquals(
        await cluster.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", otherDb),
        "0\n",
      );
      await Deno.writeTextFile(
        `${root}/workflows/workflow-pair.yaml`,
        workflowFile("pair", shellStep("a", "echo from-a") + shellStep("b", "echo from-b")),
      );
      const token = await mintToken(root, "ops", "operator");
      const tokens = await cluster.psql("SELECT count(*) FROM api_tokens", dbOf(root));
      assertEquals(tokens, "1\n");
      await using server = await startServe(root);
      const run = await server.cli(["workflow", "run", "pair", "--json"], token);
      assertEquals(run.code, 0, run.stderr);
      const runId = (run.json as { run: { id: string; status: string } }).run.id;
      const status = await server.cli(["workflow", "status", runId, "--json"], token);
      assertEquals((status.json as { run: { status: string } }).run.status, "succeeded");
      // The same run, read straight from the store by a local command.
      const logs = await runCli(["workflow", "logs", runId, "--repo", root]);
      assertEquals(logs.code, 0, logs.stderr);
      assert(logs.stdout.includes("from-a") && logs.stdout.includes("from-b"), logs.stdout);
      assertEquals(await server.stop(), 0);
    } finally {
      await cluster.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
);

/** The database name in a repository's recorded DSN. */
function dbOf(root: string): string {
  const config = Deno.readTextFileSync(`${root}/.swamp.yaml`);
  return /^dsn: postgres:\/\/[^/]*\/([^?\s]+)/m.exec(config)![1];
}

await testNeeding(
  "postgres",
  "postgres store: `workflow wait` hears of the run's end by notification, with no poll to catch it",
  async () => {
    const cluster = await startPostgres();
    const work = await Deno.makeTempDir({ prefix: "swamp-pg-wait-" });
    try {
      const root = `${work}/repo`;
      const gate = `${work}/go`;
      const held = workflowFile(
        "held",
        shellStep("hold", `while [ ! -e ${gate} ]; do sleep 0.1; done`),
      );
      const dsn = await cluster.createDatabase();
      await initRepo(root, "postgres", { "workflows/workflow-held.yaml": held }, dsn);
      // A follower's safety read an hour away: only a notification can end the wait.
      const env = { SWAMP_FOLLOW_POLL_MS: "3600000" };
      const cli = (args: string[]) => runCli([...args, "--repo", root], { cwd: work, env });
      const started = await cli(["workflow", "run", "held", "--detach", "--json"]);
      assertEquals(started.code, 0, started.stderr);
      const runId = (started.json as { run: { id: string } }).run.id;
      const waiting = cli(["workflow", "wait", runId, "--timeout", "60s", "--json"]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await Deno.writeTextFile(gate, "");
      const waited = await waiting;
      assertEquals(waited.code, 0, waited.stderr);
      assertEquals((waited.json as { run: { status: string } }).run.status, "succeeded");
    } finally {
      await cluster.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
);
