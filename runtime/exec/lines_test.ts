// boundedText: what the engine records of a step's stdout, whatever the executor reported.
import { assertEquals } from "../../test/helpers/assert.ts";
import { boundedText } from "./lines.ts";

Deno.test("boundedText keeps text within the limit as it is and cuts longer text at a character", () => {
  assertEquals(boundedText("hello", 5), { text: "hello", cut: false });
  assertEquals(boundedText("héllo", 6), { text: "héllo", cut: false }); // 6 bytes of UTF-8
  assertEquals(boundedText("héllo", 5), { text: "héll", cut: true });
  assertEquals(boundedText("aé", 2), { text: "a", cut: true }); // no half of "é"
  const big = boundedText("x".repeat(10 << 20), 64 * 1024);
  assertEquals([big.text.length, big.cut], [64 * 1024, true]);
});
