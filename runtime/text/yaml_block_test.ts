// The block reader must agree with js-yaml on every text it accepts, and must
// accept the plain block YAML workflows are written in (or it is no faster).
import { CORE_SCHEMA, load } from "js-yaml";
import { assert, assertEquals } from "../../test/helpers/assert.ts";
import { seeded } from "../../test/helpers/random.ts";
import { readBlockYaml } from "./yaml_block.ts";
import { workflowYaml } from "../../test/helpers/large_workflow.ts";

/** js-yaml's answer, or the error it throws. */
function reference(text: string): { data?: unknown; error?: string } {
  try {
    return { data: load(text, { schema: CORE_SCHEMA }) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Fails unless the block reader declines `text` or returns js-yaml's data. */
function agrees(text: string): boolean {
  const fast = readBlockYaml(text);
  if (fast === undefined) return false;
  const ref = reference(text);
  assertEquals(ref.error, undefined, `accepted a text js-yaml refuses:\n${text}`);
  assertEquals(fast, ref.data, `different data for:\n${text}`);
  return true;
}

Deno.test("block YAML: workflow-shaped files take the fast path and match js-yaml", () => {
  assert(agrees(workflowYaml("big", 3, 20)));
  const styled = `# a workflow
id: 0f0c1d2e-0000-4000-8000-000000000001
name: "deploy: prod"   # quoted because of the colon
description: 'it''s fine'
version: 1
inputs:
  properties:
    env: {}
    hosts: []
jobs:
- name: build
  steps:
    - name: compile
      task:
        type: model_method
        inputs:
          run: |
            set -eu
            echo "building \${{ inputs.env }}"

            make all   # not a comment inside the block
          env:
            A: "1"
            B: 0x1F
            C: ~
            D:
      dependsOn:
      - step: fetch
        condition:
          type: succeeded
    -   name: fetch
        task: {type: x}
`;
  assertEquals(readBlockYaml(styled), undefined, "flow mappings are js-yaml's");
  const accepted = styled.replace("task: {type: x}", "task:\n          type: x");
  assert(agrees(accepted), "the styled workflow should take the fast path");
});

Deno.test("block YAML: tricky scalars resolve as js-yaml resolves them", () => {
  const scalars = [
    "yes",
    "no",
    "on",
    "1",
    "-1",
    "+1",
    "0x1F",
    "0o17",
    "08",
    "1_000",
    ".5",
    "1e3",
    "1.5e-3",
    "-.inf",
    ".NaN",
    ".nan",
    "~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "true",
    "TRUE",
    "tRUE",
    "False",
    "12:30",
    "2001-12-14",
    "a b",
    "a#b",
    "a #b",
    "http://x/y",
    "a:b",
    "-a",
    "a-",
    "ü",
    "😀 x",
    "a,b",
    "a]",
    "0.",
    "-0",
    "-0.0",
    "0b101",
    "9007199254740993",
    "1e400",
    "a 'b' \"c\"",
    "'q'",
    '"dq"',
    "'it''s'",
    '"tab\\tnew\\nline"',
    '"\\u00e9\\ud83d\\ude00"',
    '"\\x41"',
    '"a\\/b"',
    "[]",
    "{}",
    "[a]",
    "{a: 1}",
    "-",
    "- a",
    "@x",
    "%x",
    "!x",
    "&x a",
    "*x",
    "? x",
    ": x",
    "|",
    ">",
    "a: b",
    "a:",
    "`x",
    "'open",
    '"open',
    '"a"b',
    "'a' # c",
    '"a" #c',
    "x #",
    "x#",
  ];
  let taken = 0;
  for (const s of scalars) {
    for (
      const text of [`k: ${s}\n`, `- ${s}\n`.replace(/^/, "l:\n"), `k:\n  - ${s}\n`, `${s}: v\n`]
    ) {
      if (agrees(text)) taken++;
    }
  }
  assert(taken > scalars.length * 2, `only ${taken} texts took the fast path`);
});

Deno.test("block YAML: literal blocks, comments and indentation", () => {
  const texts = [
    "a: |\n  x\n  y\nb: 1\n",
    "a: |-\n  x\n\n  y\n\n\nb: 1\n",
    "a: |\n  x\n    indented\n  y\n",
    "a: |\n\n  x\n",
    "a: |\n  x\n\n",
    "a: |\n  x",
    "a: |+\n  x\n\n",
    "a: |2\n   x\n",
    "a: >\n  x\n  y\n",
    "a: |\n  x\n # comment\nb: 2\n",
    "a: | # note\n  x\n",
    "a: |\n  \tx\n",
    "a: |\n  x\n   \n  y\n",
    "- |\n  x\n- y\n",
    "a:\n- |\n  x\n- y\n",
    "a:\n  - b\n  # c\n  - d\n",
    "a:\n    # deep comment\n  b: 1\n",
    "a: 1\n  # more indented comment\nb: 2\n",
    "a: x\n  y\n",
    "a:\n  b\n",
    "a: 1\na: 2\n",
    "a:\n  - x\n  b: 1\n",
    "a:\n- x\nb: 1\n",
    "-\n- a\n",
    "l:\n-\n- a\n-\n",
    "l:\n- - a\n",
    "l:\n  -   k: 1\n      j: 2\n  - k: 3\n",
    "a: 1\n\tb: 2\n",
    "a:\t1\n",
    "a: 1 \t\n",
    "--- \na: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n...\n",
    "%YAML 1.2\n---\na: 1\n",
    "  a: 1\n  b: 2\n",
    "a: 1\r\nb: 2\r\n",
    "\uFEFFa: 1\n",
    "a: \u0001\n",
    "__proto__: 1\n",
    "<<: 1\n",
    '"a b": 1\n"c\\"d": 2\n\'e\'\'f\': 3\n',
    "a : 1\n",
    "a:1\n",
    "a: b: c\n",
    "a:\n\n\n  b: 1\n\n",
    "",
    "# only a comment\n",
    "- a\n",
    "a\n",
  ];
  let taken = 0;
  for (const text of texts) if (agrees(text)) taken++;
  assert(taken >= 15, `only ${taken} texts took the fast path`);
});

Deno.test("block YAML: random documents agree with js-yaml", () => {
  const random = seeded(20261121);
  let taken = 0;
  const total = 3000;
  for (let n = 0; n < total; n++) {
    let text = randomDocument(random);
    if (random() < 0.3) text = corrupt(text, random);
    if (agrees(text)) taken++;
  }
  console.log(`  ${taken} of ${total} random documents took the fast path`);
  assert(taken > total / 3, `only ${taken} of ${total} took the fast path`);
});

const KEYS = ["a", "name", "on", "yes", "a b", "a:b", "'q'", '"d q"', "-x", "k#", "a-b", "$x"];
const RISKY_KEYS = ["1", "true", "null", "~", "<<", "__proto__", "? a", "a #"];
// Mostly scalars the fast path takes, sometimes one it must hand to js-yaml.
const SCALARS = [
  "x",
  "yes",
  "1",
  "-2",
  "0x1F",
  "1.5",
  ".inf",
  "~",
  "null",
  "true",
  "a b",
  "a #c",
  "a#c",
  "http://h:1/p",
  "'s''q'",
  '"d\\n\\"q\\""',
  "[]",
  "{}",
  "ü😀",
  "",
  "12:30",
  "-1",
];
const RISKY = ['"\\x41"', "- x", "a: b", "&a x", "*a", "{a: 1}", "[1]", "!t x", "'open", "@"];

function randomDocument(random: () => number): string {
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
  const step = pick([2, 2, 3, 4]);
  const lines: string[] = [];
  const comment = (pad: number) => {
    if (random() < 0.1) lines.push(`${" ".repeat(pad)}# note`);
    if (random() < 0.05) lines.push("");
  };
  const block = (pad: number) => {
    const body = ["echo 1", "  nested", "", "x: y # not a comment", "\ttab", "'q' \"d\""];
    const n = 1 + Math.floor(random() * 4);
    for (let i = 0; i < n; i++) {
      const line = pick(body);
      lines.push(line === "" ? "" : " ".repeat(pad) + line);
    }
  };
  const value = (pad: number, depth: number, prefix: string, compact: boolean): void => {
    const r = random();
    if (depth > 3 || r < 0.45) {
      const s = random() < 0.01 ? pick(RISKY) : pick(SCALARS);
      if (random() < 0.1) {
        lines.push(`${prefix} ${pick(["|", "|-", "|", "|-", "|", "|-", "|+", ">", "|2"])}`);
        block(pad + step);
      } else lines.push(s === "" ? prefix : `${prefix} ${s}`);
    } else if (r < 0.75) {
      lines.push(prefix);
      map(pad + step, depth + 1);
    } else {
      lines.push(prefix);
      seq(compact && random() < 0.5 ? pad : pad + step, depth + 1);
    }
  };
  const map = (pad: number, depth: number) => {
    const used = new Set<string>();
    const n = 1 + Math.floor(random() * 4);
    for (let i = 0; i < n; i++) {
      let key = random() < 0.01 ? pick(RISKY_KEYS) : pick(KEYS);
      if (used.has(key) && random() < 0.9) key = `${key}${i}`;
      used.add(key);
      comment(pad);
      value(pad, depth, `${" ".repeat(pad)}${key}:`, true);
    }
  };
  const seq = (pad: number, depth: number) => {
    const n = 1 + Math.floor(random() * 3);
    for (let i = 0; i < n; i++) {
      comment(pad);
      if (random() < 0.4) {
        // `- key: value` with the mapping's other keys under the first.
        const start = lines.length;
        map(pad + 2, depth + 1);
        lines[start] = `${" ".repeat(pad)}-${lines[start].slice(pad + 1)}`;
      } else value(pad, depth, `${" ".repeat(pad)}-`, false);
    }
  };
  map(0, 0);
  return lines.join("\n") + (random() < 0.9 ? "\n" : "");
}

function corrupt(text: string, random: () => number): string {
  const at = Math.floor(random() * text.length);
  const junk = [" ", "\t", ":", "-", "#", "'", '"', "\n", "  ", "|", "&a ", "*a", "[", "{"];
  return random() < 0.5
    ? text.slice(0, at) + junk[Math.floor(random() * junk.length)] + text.slice(at)
    : text.slice(0, at) + text.slice(at + 1);
}
