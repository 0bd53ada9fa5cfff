import { assertEquals } from "../../../test/helpers/assert.ts";
import { SwampError } from "../../errors/mod.ts";
import { negotiateProtocol } from "./protocol.ts";

Deno.test("protocol: the highest common version; no overlap names both ranges", () => {
  assertEquals(negotiateProtocol({ min: 1, max: 3 }, { min: 2, max: 5 }), 3);
  let error: SwampError | undefined;
  try {
    negotiateProtocol({ min: 7, max: 9 }, { min: 1, max: 1 });
  } catch (caught) {
    error = caught as SwampError;
  }
  assertEquals(error?.codeName, "protocol_mismatch");
  assertEquals(
    error?.message,
    "the worker speaks protocol 7..9, the orchestrator speaks 1: no version in common",
  );
});
