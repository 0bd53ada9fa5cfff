import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { DiagnosticSchema, ErrorCode } from "../../../proto/gen/swamp/v1/errors_pb.ts";
import { SwampError } from "../../../runtime/mod.ts";
import { assertEquals, assertThrows } from "../../../test/helpers/mod.ts";
import { fromConnectError, toConnectError } from "./errors.ts";
import { parsePin } from "./pin.ts";

Deno.test("a SwampError crosses the wire whole: code, message, hint, cause, diagnostics", () => {
  const diagnostic = create(DiagnosticSchema, { rule: "unknown-key", message: "m", line: 3 });
  const sent = toConnectError(
    new SwampError(ErrorCode.NOT_APPROVER, "mallory may not decide", {
      hint: "ask ada",
      cause: new Error("listed: ada"),
      diagnostics: [diagnostic],
    }),
  );
  assertEquals(sent.code, Code.PermissionDenied);
  const back = fromConnectError(sent);
  assertEquals(
    [back.code, back.message, back.hint, String(back.cause), back.diagnostics],
    [ErrorCode.NOT_APPROVER, "mallory may not decide", "ask ada", "listed: ada", [diagnostic]],
  );
});

Deno.test("an unexpected error leaves as internal without its cause; a bare status maps to the nearest code", () => {
  const sent = toConnectError(new Error("secret path /home/x/.key"));
  assertEquals(sent.code, Code.Internal);
  const back = fromConnectError(sent);
  assertEquals([back.code, back.cause], [ErrorCode.INTERNAL, undefined]);
  assertEquals(
    fromConnectError(new ConnectError("connect ECONNREFUSED", Code.Unavailable)).code,
    ErrorCode.UNAVAILABLE,
  );
  assertEquals(
    fromConnectError(new ConnectError("no", Code.Unauthenticated)).code,
    ErrorCode.UNAUTHENTICATED,
  );
});

Deno.test("pins: sha256 with 64 hex digits, colons and case ignored; anything else is a usage error", () => {
  const hex = "AB".repeat(32);
  assertEquals(parsePin(`sha256:${hex}`), "ab".repeat(32));
  assertEquals(parsePin(`sha256:${hex.match(/../g)!.join(":")}`), "ab".repeat(32));
  for (const bad of ["", "ab".repeat(32), "sha1:abcd", `sha256:${"ab".repeat(31)}`]) {
    assertThrows(() => parsePin(bad), "is not a certificate pin");
  }
});
