// A real `swamp worker connect` keeps its session credential through
// renewals and a dropped stream, and never prints it. The credentials are
// read off the hub's side of the stream, where they are drawn.
import type { AttachRequest, AttachResponse } from "../../proto/gen/swamp/v1/worker_channel_pb.ts";
import type { HubEvent } from "../../runtime/mod.ts";
import { assert, assertEquals, eventually } from "../helpers/mod.ts";
import { startTestHub } from "../helpers/hub.ts";

Deno.test("a worker resumes after a drop with its renewed session credential, which it never prints", async () => {
  const hubEvents: HubEvent[] = [];
  await using t = await startTestHub({
    heartbeatMs: 500,
    graceMs: 20_000,
    tickMs: 100,
    sessionRenewMs: 1000,
    onEvent: (event) => hubEvents.push(event),
  });
  const credentials: string[] = [];
  const attach = t.hub.attach.bind(t.hub);
  t.hub.attach = async function* (requests: AsyncIterable<AttachRequest>, signal: AbortSignal) {
    for await (const response of attach(requests, signal)) {
      const { kind } = response as AttachResponse;
      if (kind.case === "welcome") credentials.push(kind.value.sessionCredential);
      if (kind.case === "sessionRenewal") credentials.push(kind.value.sessionCredential);
      yield response;
    }
  };
  const w1 = await t.connect("w1");
  // The first welcome and two renewals: the welcome's credential no longer resumes, so only a
  // worker that took the renewals can.
  await eventually("two renewals", () => Promise.resolve(credentials.length >= 3 || undefined));
  w1.signal("SIGSTOP");
  // Longer than the hub's silence limit (3 heartbeats): the stream is dropped.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  w1.signal("SIGCONT");
  const back = await w1.waitFor("connected", 15_000, 1);
  assertEquals(back.resumed, true);
  assert(!hubEvents.some((e) => e.event === "worker_session_mismatch"), JSON.stringify(hubEvents));

  // Each renewal is logged on both sides, without the credential.
  const renewed = w1.events.filter((e) => e.event === "renewed");
  assert(renewed.length >= 2, JSON.stringify(w1.events));
  assert(renewed.every((e) => typeof e.sessionId === "string" && e.sessionId !== ""));
  // The line docs/remote/failure.md shows: exactly these keys.
  assertEquals(Object.keys(renewed[0]), ["event", "time", "sessionId"]);
  assert(hubEvents.filter((e) => e.event === "worker_session_renewed").length >= 2);
  const printed = JSON.stringify(w1.events) + JSON.stringify(hubEvents);
  assert(credentials.every((c) => c.length === 43), "the credentials were seen");
  for (const credential of credentials) {
    assert(!printed.includes(credential), "a session credential was printed or logged");
  }
  w1.signal("SIGTERM");
  await w1.exited(30_000);
  const stderr = await w1.stderr();
  for (const credential of credentials) assert(!stderr.includes(credential));
});
