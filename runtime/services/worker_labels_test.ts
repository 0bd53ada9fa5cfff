import { assertEquals, assertThrows } from "../../test/helpers/mod.ts";
import { checkLabels, parseLabels } from "./worker_labels.ts";

Deno.test("labels: KEY=VALUE words become a map, split at the first =", () => {
  assertEquals(parseLabels([]), {});
  assertEquals(parseLabels(["gpu=true", "zone=eu-1", "team/owner=a=b", "empty="]), {
    gpu: "true",
    zone: "eu-1",
    "team/owner": "a=b",
    empty: "",
  });
});

Deno.test("labels: a malformed word, a repeated key or a bad key or value names what is wrong", () => {
  assertThrows(() => parseLabels(["gpu"]), "`--label gpu` is not KEY=VALUE");
  assertThrows(() => parseLabels(["=true"]), "`--label =true` is not KEY=VALUE");
  assertThrows(() => parseLabels(["a=1", "a=2"]), "label `a` is given twice");
  assertThrows(() => parseLabels(["-x=1"]), "`-x` is not a valid label key");
  assertThrows(() => parseLabels(["has space=1"]), "`has space` is not a valid label key");
  assertThrows(() => parseLabels([`k=${"v".repeat(257)}`]), "the value of label `k`");
  assertThrows(() => checkLabels({ k: "tab\there" }), "the value of label `k`");
  assertThrows(() => checkLabels({ ["k".repeat(64)]: "v" }), "is not a valid label key");
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
  assertThrows(() => checkLabels(many), "65 labels is too many");
});
