import { createHash } from "node:crypto";
import { assertEquals } from "../../test/helpers/mod.ts";
import { sha256HexSync } from "./sha256.ts";
import { sha256Hex } from "./hash.ts";

// node:crypto is the reference: file names and stored hashes made with it
// before must come out the same.
const texts = [
  "",
  "abc",
  "a".repeat(55),
  "a".repeat(56),
  "a".repeat(64),
  "é lock ✓ 🙂".repeat(40),
  "x".repeat(10_000),
];

Deno.test("sha256HexSync matches node:crypto across block boundaries and UTF-8", () => {
  for (const text of texts) {
    assertEquals(sha256HexSync(text), createHash("sha256").update(text, "utf8").digest("hex"));
  }
  assertEquals(
    sha256HexSync("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("sha256Hex matches node:crypto for short and long texts", async () => {
  for (const text of [...texts, "y".repeat(100_000)]) {
    assertEquals(await sha256Hex(text), createHash("sha256").update(text, "utf8").digest("hex"));
  }
});
