// A watcher in a process of its own (test/contracts/store_listen_postgres_test.ts):
// opens the PostgreSQL store at DSN, connects a change feed to its
// subscribe(), prints "ready", then follows RUN's events the way a follower
// does (version, read, wait), printing "seq N" for each, until it has seen
// seq LAST. Its poll interval is an hour: only a notification, or the re-read
// after a lost listening connection, can wake it in a test's lifetime.
import { ChangeFeed, connectFeed } from "../../runtime/mod.ts";
import { openPostgresStore } from "../../plugins/stores/postgres/mod.ts";

const [dsn, runId, lastText] = Deno.args;
const last = BigInt(lastText);
const store = await openPostgresStore(dsn);
const feed = new ChangeFeed();
if (!(await connectFeed(store, feed))) throw new Error("the store offers no subscription");
console.log("ready");
let after = 0n;
while (after < last) {
  const seen = feed.version(runId, "events");
  for (const event of await store.readEvents(runId, after)) {
    after = event.seq;
    console.log(`seq ${after}`);
  }
  if (after < last) await feed.wait(runId, 3_600_000, undefined, "events", seen);
}
await store.close();
