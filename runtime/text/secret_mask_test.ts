import { assert, assertEquals } from "../../test/helpers/mod.ts";
import { create } from "@bufbuild/protobuf";
import { LogLineSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { SecretMask } from "./secret_mask.ts";
import { MaskedLines } from "./masked_lines.ts";

Deno.test("SecretMask replaces every occurrence with ***", () => {
  const mask = new SecretMask();
  mask.add("hunter22");
  assertEquals(mask.apply("pw=hunter22 and again hunter22."), "pw=*** and again ***.");
  assertEquals(mask.apply("nothing here"), "nothing here");
});

Deno.test("SecretMask ignores values shorter than 4 characters", () => {
  const mask = new SecretMask();
  mask.add("abc");
  mask.add("");
  assertEquals(mask.size, 0);
  assertEquals(mask.apply("abc abc"), "abc abc");
});

Deno.test("SecretMask replaces a secret containing another one whole", () => {
  const mask = new SecretMask();
  mask.add("tok1");
  mask.add("tok1-long-secret");
  assertEquals(mask.apply("a tok1-long-secret b tok1"), "a *** b ***");
});

Deno.test("SecretMask masks each line of a multi-line secret", () => {
  const mask = new SecretMask();
  mask.add("-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----");
  assertEquals(mask.apply("line: MIIBOgIBAAJBAK"), "line: ***");
  assertEquals(
    mask.apply("x -----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY----- y"),
    "x *** y",
  );
});

Deno.test("SecretMask.applyDeep masks nested strings and keys, keeps other values", () => {
  const mask = new SecretMask();
  mask.add("s3cret!");
  const when = new Date(0);
  const input = {
    a: "s3cret!",
    n: 3,
    when,
    list: ["ok", "x s3cret! y"],
    map: new Map([["k", "s3cret!"]]),
    "s3cret!": true,
  };
  const out = mask.applyDeep(input);
  assertEquals(out.a, "***");
  assertEquals(out.n, 3);
  assert(out.when === when);
  assertEquals(out.list, ["ok", "x *** y"]);
  assertEquals(out.map.get("k"), "***");
  assertEquals(Object.keys(out).includes("***"), true);
  assertEquals(input.a, "s3cret!", "the input is not changed");
});

Deno.test("SecretMask.applyDeep keeps a protobuf message a message", () => {
  const mask = new SecretMask();
  mask.add("s3cret!");
  const line = create(LogLineSchema, { stepId: "a", stream: "stdout", text: "s3cret!" });
  const out = mask.applyDeep(line);
  assertEquals(out.text, "***");
  assertEquals(out.$typeName, line.$typeName);
  const clean = create(LogLineSchema, { stepId: "a", stream: "stdout", text: "fine" });
  // A secret that is also a field name masks the field's value, never the field.
  const named = new SecretMask();
  named.add("text");
  const worded = create(LogLineSchema, { stepId: "a", stream: "stdout", text: "some text" });
  const masked = named.applyDeep({ case: "line", value: worded });
  assertEquals(masked.value.text, "some ***");
  assertEquals(masked.value.stepId, "a");
  assertEquals(Object.keys(masked), ["case", "value"]);
  assert(mask.applyDeep(clean) === clean, "unchanged values are returned as they are");
});

Deno.test("MaskedLines masks a secret split across two pieces of a long line", () => {
  const mask = new SecretMask();
  mask.add("SECRET-VALUE");
  const lines = new MaskedLines(mask, 8);
  // A long line cut into pieces by the splitter: "xxxxxxSECRET" + "-VALUEyy".
  assertEquals(lines.push("xxxxxxSECRET"), []);
  assertEquals(lines.push("-VALUEyy"), ["xxxxxx***", "yy"]);
  assertEquals(lines.drain(), []);
  assertEquals(lines.push("zzzzzzSECRET-V"), []);
  assertEquals(lines.drain(), ["zzzzzzSECRET-V"], "a piece with nothing after it is kept as it is");
  // Short lines go out at once; a whole secret in a piece is masked too.
  assertEquals(lines.push("a SECRET-VALUE"), []);
  assertEquals(lines.push("ok"), ["a ***", "ok"]);
  assertEquals(lines.drain(), []);
});
