// The guide runner's comparison: what it forgives (what differs run to run)
// and what it does not (a drifted message).
import { assert, assertEquals } from "../helpers/mod.ts";
import { normalize, outputMatches } from "./guide_output.ts";

const shown = `run 44784249-5905-4072-8ae9-16ccf977ee1c  succeeded
started   2026-12-04 04:59:58Z by ada, attempt 2
owner     pid 32281 on vm, heartbeat 12.2s ago
  ship/build  succeeded 4ms
decide with: swamp workflow approve 44784249 --step ship/confirm
`;

const printed = `run 0a1b2c3d-0000-4111-8222-333344445555  succeeded
started   2027-01-01 00:00:01Z by ada, attempt 2
owner     pid 7 on build-host.local, heartbeat 800ms ago
  ship/build  succeeded 1m2s
decide with: swamp workflow approve 0a1b2c3d --step ship/confirm
`;

Deno.test("ids, times, durations, pids and hosts differ between runs and are forgiven", () => {
  assert(outputMatches(shown, printed, "full"));
  assertEquals(normalize(printed).split("\n")[2], "owner pid <n> on <host>, heartbeat <dur> ago");
});

Deno.test("a drifted word, a missing line or an extra line is not forgiven", () => {
  assert(!outputMatches(shown, printed.replace("succeeded 1m2s", "finished 1m2s"), "full"));
  assert(!outputMatches(shown, printed.replace(/^owner.*\n/m, ""), "full"));
  assert(!outputMatches(shown, `${printed}one more line\n`, "full"));
});

Deno.test("the guide's directory is /home/me and other temporary paths are <tmp>", () => {
  const home = "/tmp/swamp-guide-abc123";
  assert(outputMatches(
    "initialized swamp repository in /home/me/demo (store: file)\nwrote /tmp/x/cert.pem",
    `initialized swamp repository in ${home}/demo (store: file)\nwrote /tmp/y7/cert.pem\n`,
    "full",
    home,
  ));
});

Deno.test("… stands for text within a line, and alone for any number of lines", () => {
  const expected = `{\n  "hash": "…",\n  …\n}`;
  assert(outputMatches(expected, `{\n  "hash": "e2f9",\n  "a": 1,\n  "b": 2\n}`, "full"));
  assert(outputMatches(expected, `{\n  "hash": "",\n}`, "full"));
  assert(!outputMatches(expected, `{\n  "hush": "e2f9"\n}`, "full"));
});

Deno.test("partial: each shown line appears in order; any-order: the same lines in any order", () => {
  const actual = "a one\nb two\nc three\n";
  assert(outputMatches("a one\nc three", actual, "partial"));
  assert(!outputMatches("c three\na one", actual, "partial"));
  assert(outputMatches("c three\na one\nb two", actual, "any-order"));
  assert(!outputMatches("c three\na one", actual, "any-order"));
  assert(!outputMatches("c three\na one\nb too", actual, "any-order"));
});

Deno.test("token secrets and the OS account (the actor of local commands) are set aside", () => {
  const shown =
    `gpu-box.Zm9vYmFyYmF6cXV4cXV1eHF1dXoxMjM0NTY3ODkwYWI\n"createdBy": "ada"\nstarted by ada`;
  const printed =
    `gpu-box.0-_PrY0AnjNQu72Zb7vmeMzxa4vRglHPmDZiHe7KbQ0\n"createdBy": "svc"\nstarted by svc`;
  assert(outputMatches(shown, printed, "full", undefined, "svc"));
  assert(!outputMatches(shown, printed.replace("gpu-box.", "cpu-box."), "full", undefined, "svc"));
  assert(!outputMatches(shown, printed, "full", undefined, "other"));
});
