import { ErrorCode, errorCodeName } from "../runtime/mod.ts";
import { assert, assertEquals } from "../test/helpers/mod.ts";
import { exitCodeFor, exitCodes } from "./exit_codes.ts";

Deno.test("every error code of the contract has an exit status, and nothing else does", () => {
  const contract = Object.values(ErrorCode)
    .filter((v): v is number => typeof v === "number")
    .map((code) => errorCodeName(code));
  assertEquals([...contract].sort(), Object.keys(exitCodes).sort());
});

Deno.test("exit statuses keep their documented meaning", () => {
  assertEquals(exitCodeFor("run_failed"), 1);
  assertEquals(exitCodeFor("usage"), 2);
  assertEquals(exitCodeFor("invalid_workflow"), 3);
  assertEquals(exitCodeFor("not_found"), 4);
  assertEquals(exitCodeFor("internal"), 70);
  assert(Object.values(exitCodes).every((status) => status > 0 && status < 126));
});
