import { ErrorCode, errorCodeName, errorCodeTable, grpcStatusFor } from "../runtime/mod.ts";
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
  assertEquals(exitCodeFor("unauthenticated"), 8);
  assertEquals(exitCodeFor("internal"), 70);
  assert(Object.values(exitCodes).every((status) => status > 0 && status < 126));
});

Deno.test("the error reference lists each code under the gRPC status the table gives it", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/reference/errors.md", import.meta.url));
  const section = doc.slice(doc.indexOf("## Over the API"));
  const documented = new Map<string, string>();
  for (const [, status, codes] of section.matchAll(/^\|\s*`(\w+)`\s*\|(.+)\|\s*$/gm)) {
    for (const [, code] of codes.matchAll(/`(\w+)`/g)) documented.set(code, status);
  }
  for (const [code, row] of Object.entries(errorCodeTable)) {
    assertEquals(documented.get(code), row.grpc, `errors.md puts ${code} under another status`);
  }
  assertEquals(documented.size, Object.keys(errorCodeTable).length);
  assertEquals(grpcStatusFor("not_found"), 5);
  assertEquals(grpcStatusFor("unauthenticated"), 16);
});
