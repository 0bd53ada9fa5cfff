// The compiled fast path against the library on generated expressions (issue
// 18): a seeded generator of nested arithmetic, string, list, map, logic and
// comprehension expressions over random variables, in both wire modes. Every
// result (value, or error and its message) must be the same with the fast
// path on and off. The seed is printed, so a disagreement can be replayed.
import { assertEquals } from "../test/helpers/assert.ts";
import { CelEvaluator } from "./evaluator.ts";
import type { WireMode } from "./sandbox_program.ts";
import { seeded } from "../test/helpers/random.ts";

type Kind = "int" | "double" | "string" | "bool" | "list" | "map";

class Generator {
  constructor(private readonly next: () => number) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A random value of JSON for the variables. */
  variables(): Record<string, unknown> {
    const word = () => this.pick(["a", "b", "ab", "", "Ab", "é", "😀", "x y", "10"]);
    return {
      i: this.int(-20, 20),
      j: this.int(-3, 3),
      d: this.pick([0.5, -2.25, 3.75, 1e3 + 0.5]),
      s: word(),
      t: word(),
      b: this.next() < 0.5,
      l: Array.from({ length: this.int(0, 5) }, () => this.int(-5, 9)),
      ls: Array.from({ length: this.int(0, 4) }, word),
      m: Object.fromEntries(Array.from({ length: this.int(0, 3) }, (_, k) => [
        this.pick(["a", "b", "c", "k"]) + k,
        this.int(-4, 4),
      ])),
      lm: Array.from(
        { length: this.int(0, 3) },
        () => ({ ok: this.next() < 0.5, n: this.int(0, 9) }),
      ),
    };
  }

  /** An expression that is meant to be of `kind` (sometimes wrongly typed, on purpose). */
  expr(kind: Kind, depth: number): string {
    if (depth <= 0 || this.next() < 0.25) return this.leaf(kind);
    const d = depth - 1;
    const e = (k: Kind) => this.expr(k, d);
    switch (kind) {
      case "int":
        return this.pick([
          () => `${e("int")} + ${e("int")}`,
          () => `(${e("int")} - ${e("int")})`,
          () => `${e("int")} * ${e("int")}`,
          () => `${e("int")} / ${e("int")}`,
          () => `${e("int")} % ${e("int")}`,
          () => `size(${e(this.pick(["string", "list", "map"]))})`,
          () => `(${e("bool")} ? ${e("int")} : ${e("int")})`,
          () => `${e("list")}[${e("int")}]`,
          () => `int(${e(this.pick(["double", "string", "int"]))})`,
          () => `m[${e("string")}]`,
          () => `-${e("int")}`,
          () => `${e("int")} + ${e("string")}`, // a type error, on purpose
        ])();
      case "double":
        return this.pick([
          () => `${e("double")} * ${e("double")}`,
          () => `${e("double")} / ${e("double")}`,
          () => `double(${e("int")})`,
          () => `${e("double")} + 0.5`,
        ])();
      case "string":
        return this.pick([
          () => `${e("string")} + ${e("string")}`,
          () => `string(${e(this.pick(["int", "double", "bool", "string"]))})`,
          () => `(${e("bool")} ? ${e("string")} : ${e("string")})`,
          () => `ls[${e("int")}]`,
          () => `${e("string")}.lowerAscii()`,
          () => `${e("list")}.map(x, string(x))[0]`,
        ])();
      case "bool":
        return this.pick([
          () => `${e("int")} < ${e("int")}`,
          () => `${e("int")} == ${e("int")}`,
          () => `${e("double")} >= ${e("int")}`,
          () => `${e("string")} == ${e("string")}`,
          () => `${e("string")}.startsWith(${e("string")})`,
          () => `${e("string")}.contains(${e("string")})`,
          () => `!${e("bool")}`,
          () => `(${e("bool")} && ${e("bool")})`,
          () => `(${e("bool")} || ${e("bool")})`,
          () => `${e("int")} in ${e("list")}`,
          () => `${e("string")} in m`,
          () => `has(m.${this.pick(["a0", "b1", "k2", "z"])})`,
          () => `${e("list")}.exists(x, x > ${e("int")})`,
          () => `${e("list")}.all(x, x < ${e("int")})`,
          () => `lm.exists(v, v.ok && v.n > ${e("int")})`,
          () => `${e("list")}.exists_one(x, x == ${e("int")})`,
        ])();
      case "list":
        return this.pick([
          () => `[${e("int")}, ${e("int")}]`,
          () => `${e("list")}.map(x, x * ${e("int")})`,
          () => `${e("list")}.filter(x, x % 2 == 0)`,
          () => `${e("list")} + ${e("list")}`,
          () => `${e("list")}.map(x, x + i)`,
          () => `lm.filter(v, v.ok).map(v, v.n)`,
          () => `${e("list")}.map(x, [x, x]).map(p, p[0] + p[1])`,
        ])();
      case "map":
        return this.pick([
          () => `{${e("string")}: ${e("int")}}`,
          () => "m",
          () => `{"a": ${e("int")}, "b": ${e("string")}}`,
        ])();
    }
  }

  leaf(kind: Kind): string {
    switch (kind) {
      case "int":
        return this.pick(["i", "j", `${this.int(-9, 99)}`, "0", "size(l)", "l[0]"]);
      case "double":
        return this.pick(["d", "1.5", "-0.25", "2.0"]);
      case "string":
        return this.pick(["s", "t", `"a"`, `""`, `"😀"`, "ls[0]"]);
      case "bool":
        return this.pick(["b", "true", "false"]);
      case "list":
        return this.pick(["l", "[]", "[1, 2, 3]", "ls"]);
      case "map":
        return this.pick(["m", "{}"]);
    }
  }
}

/** The typed wire form (cel.expr.Value JSON) of a JSON variable. */
function typed(value: unknown): unknown {
  if (value === null) return { nullValue: null };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number") {
    return Number.isInteger(value) ? { int64Value: String(value) } : { doubleValue: value };
  }
  if (typeof value === "string") return { stringValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(typed) } };
  return {
    mapValue: {
      entries: Object.entries(value as Record<string, unknown>).map(([k, v]) => ({
        key: { stringValue: k },
        value: typed(v),
      })),
    },
  };
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const PER_SEED = 120;

for (const mode of ["json", "typed"] as WireMode[]) {
  Deno.test(`fast path and library agree on ${SEEDS.length * PER_SEED} generated expressions (${mode} variables)`, async () => {
    const fast = new CelEvaluator({ deadlineMs: 5_000 });
    const library = new CelEvaluator({ deadlineMs: 5_000, fastPath: false });
    try {
      const differ: string[] = [];
      let values = 0;
      for (const seed of SEEDS) {
        const g = new Generator(seeded(seed));
        const json = g.variables();
        const vars = mode === "json"
          ? json
          : Object.fromEntries(Object.entries(json).map(([k, v]) => [k, typed(v)]));
        const exprs = Array.from(
          { length: PER_SEED },
          () => g.expr(g.pick(["int", "double", "string", "bool", "list", "map"] as Kind[]), 4),
        );
        const a = await fast.evaluateWire(exprs, vars, mode);
        const b = await library.evaluateWire(exprs, vars, mode);
        exprs.forEach((e, i) => {
          if (b[i].ok) values++;
          if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
            differ.push(
              `seed ${seed}: ${e}\n  fast ${JSON.stringify(a[i])}\n  library ${
                JSON.stringify(b[i])
              }`,
            );
          }
        });
      }
      const taken = (await fast.inspect()).fastPath;
      console.log(
        `  ${
          SEEDS.length * PER_SEED
        } expressions: ${values} values; the fast path answered ${taken}`,
      );
      assertEquals(differ, [], "the fast path and the library disagree");
    } finally {
      await fast.close();
      await library.close();
    }
  });
}
