import { EXPRESSION_VALUE_MAX_DEPTH } from "../runtime/mod.ts";
import { MAX_DEPTH } from "../wasm/wire_session.ts";
import { assertEquals } from "../test/helpers/assert.ts";

Deno.test("the depth the runtime refuses at submit is the depth the sandbox takes", () => {
  // runtime/ and wasm/ may not import each other; the CLI wires both, so it checks they agree.
  assertEquals(EXPRESSION_VALUE_MAX_DEPTH, MAX_DEPTH);
});
