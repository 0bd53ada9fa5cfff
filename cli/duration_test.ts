import { assertEquals, assertThrows } from "../test/helpers/mod.ts";
import { parseDuration } from "./duration.ts";

Deno.test("durations: units, sums, and refusals", () => {
  assertEquals(parseDuration("90s", "--x"), 90_000);
  assertEquals(parseDuration("30d", "--x"), 30 * 86_400_000);
  assertEquals(parseDuration("1h30m", "--x"), 5_400_000);
  assertEquals(parseDuration("250ms", "--x"), 250);
  assertEquals(parseDuration("1.5s", "--x"), 1500);
  for (const bad of ["", "10", "5w", "1h 30m", "0s", "-5m", " 5m"]) {
    assertThrows(() => parseDuration(bad, "--x"), "takes a duration");
  }
});
