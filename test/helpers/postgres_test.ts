// The throwaway cluster: it answers on its socket only, each database is
// separate, and stop() ends the server and removes its directory.
import { testNeeding } from "./capabilities.ts";
import { assert, assertEquals } from "./assert.ts";
import { startPostgres } from "./postgres.ts";

await testNeeding(
  "postgres",
  "a throwaway cluster starts, separates databases, stops",
  async () => {
    const cluster = await startPostgres();
    let pid = 0;
    try {
      pid = Number((await Deno.readTextFile(`${cluster.dir}/postmaster.pid`)).split("\n")[0]);
      assert(pid > 0);
      // A unix socket in its directory, and no TCP listener.
      assert((await Deno.lstat(`${cluster.dir}/.s.PGSQL.5432`)).isSocket);
      assertEquals(await cluster.psql("SHOW listen_addresses"), "\n");
      const a = await cluster.createDatabase();
      const b = await cluster.createDatabase();
      assert(a !== b);
      const db = (dsn: string) => /@\/([^?]+)/.exec(dsn)![1];
      await cluster.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1)", db(a));
      assertEquals(await cluster.psql("SELECT count(*) FROM t", db(a)), "1\n");
      assertEquals(
        await cluster.psql("SELECT count(*) FROM pg_tables WHERE tablename = 't'", db(b)),
        "0\n",
      );
    } finally {
      await cluster.stop();
    }
    let alive = true;
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      alive = false;
    }
    assert(!alive, `postgres pid ${pid} still runs after stop()`);
    let present = true;
    await Deno.stat(cluster.dir).catch(() => present = false);
    assert(!present, `${cluster.dir} is still there after stop()`);
  },
);
