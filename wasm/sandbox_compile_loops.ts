// Comprehensions of the compiled fast path (sandbox_compiler.ts): the loops
// the parser expands all, exists, exists_one, filter and map into. They run
// like @bufbuild/cel's EvalFold: the range once (a list's elements or a map's
// keys), the loop condition before each step, the result after. Shipped as
// source text: uses only its parameter.

// deno-lint-ignore-file no-explicit-any
import type { Emitter, Kind, Scope, V } from "./sandbox_compiler.ts";

/** Compiles a comprehensionExpr for the expression `x` is compiling. */
export function loopCompiler(x: Emitter) {
  const { NOPE } = x;

  function comprehension(c: any, s: Scope | undefined): V {
    if (c.iterVar2 || c.iterVar === c.accuVar) throw NOPE;
    const list = appendable(c);
    const init: V = list ? { c: "[]", t: "list" } : x.gen(c.accuInit, s);
    const range = x.gen(c.iterRange, s);
    const items = x.tmp();
    if (range.t === "list") x.emit(`var ${items} = ${range.c};`);
    else if (range.t === "map") x.emit(`var ${items} = Array.from(${range.c}.keys());`);
    else if (range.t !== "dyn") throw NOPE;
    else {
      x.settled(range);
      x.emit(
        `var ${items};\nif (isA(${range.c})) ${items} = ${range.c};\n` +
          `else if (${range.c} instanceof Mp) ${items} = Array.from(${range.c}.keys());\n` +
          "else throw F;",
      );
    }
    const acc = x.tmp();
    const item = x.tmp();
    const i = x.tmp();
    // The length of an appended accumulator: a[n++] = v is cheaper than push in QuickJS.
    const length = `${acc}n`;
    const inner = (t: Kind): Scope => ({
      name: c.iterVar,
      js: item,
      t: "dyn",
      up: { name: c.accuVar, js: acc, t, up: s },
    });
    let t: Kind = init.t;
    let step: [string, V | undefined];
    if (list) step = x.sub(() => void appendStep(c.loopStep, acc, length, inner(t)));
    else {
      // The accumulator keeps its kind if a step keeps it; otherwise it is dyn.
      step = x.sub(() => x.gen(c.loopStep, inner(t)));
      if (step[1]!.t !== t) {
        t = "dyn";
        step = x.sub(() => x.gen(c.loopStep, inner(t)));
      }
    }
    const [condLines, cond] = x.sub(() => x.gen(c.loopCondition, inner(t)));
    x.emit(list ? `var ${acc} = [], ${length} = 0;` : `var ${acc} = ${init.c};`);
    // The library stops at a condition that is not true (false, or not a bool).
    const stop = cond.c === "true" ? "" : `${condLines}\nif (${cond.c} !== true) break;\n`;
    const update = list ? "" : `\n${acc} = ${step[1]!.c};`;
    x.emit(
      `for (var ${i} = 0, ${i}n = ${items}.length; ${i} < ${i}n; ${i}++) {\n` +
        `var ${item} = ${items}[${i}];\n` +
        `${stop}${step[0]}${update}\n}`,
    );
    // The result sees the accumulator, not the iteration variable.
    return x.gen(c.result, { name: c.accuVar, js: acc, t, up: s });
  }

  /** Steps of a filter or map: `acc + [e]`, `acc`, or a ternary of those, appended in place. */
  function appendStep(e: any, acc: string, length: string, s: Scope): void {
    const k = e.exprKind;
    if (k.case === "identExpr") return;
    const args = k.value.args;
    if (k.value.function === "_+_") {
      for (const item of args[1].exprKind.value.elements) {
        x.emit(`${acc}[${length}++] = ${x.gen(item, s).c};`);
      }
      return;
    }
    const cond = x.gen(args[0], s);
    if (cond.t !== "bool" && cond.t !== "dyn") throw NOPE;
    x.settled(cond); // neither true nor false throws below
    const [l1] = x.sub(() => appendStep(args[1], acc, length, s));
    const [l2] = x.sub(() => appendStep(args[2], acc, length, s));
    const no = cond.t === "bool" ? "" : `if (${cond.c} === false) `;
    const rest = cond.t === "bool" ? "" : " else throw F;";
    x.emit(`if (${cond.c} === true) {\n${l1}\n} else ${no}{\n${l2}\n}${rest}`);
  }

  /**
   * A comprehension whose accumulator starts as [] and only ever grows by
   * `acc + [e]` (filter, map): the list is private to the loop, so it can grow
   * in place instead of being copied at every step.
   */
  function appendable(c: any): boolean {
    const init = c.accuInit.exprKind;
    const result = c.result.exprKind;
    return init.case === "listExpr" && init.value.elements.length === 0 &&
      result.case === "identExpr" && result.value.name === c.accuVar &&
      !mentions(c.loopCondition, c.accuVar) && stepShape(c.loopStep, c.accuVar);
  }

  function stepShape(e: any, acc: string): boolean {
    const k = e.exprKind;
    if (k.case === "identExpr") return k.value.name === acc;
    if (k.case !== "callExpr" || k.value.target) return false;
    const args = k.value.args;
    if (k.value.function === "_+_" && args.length === 2) {
      const [l, r] = args.map((a: any) => a.exprKind);
      return l.case === "identExpr" && l.value.name === acc && r.case === "listExpr" &&
        r.value.optionalIndices.length === 0 && !mentions(args[1], acc);
    }
    return k.value.function === "_?_:_" && args.length === 3 && !mentions(args[0], acc) &&
      stepShape(args[1], acc) && stepShape(args[2], acc);
  }

  /** Whether `name` is read in `e`, minding nested comprehensions that rebind it. */
  function mentions(e: any, name: string): boolean {
    const k = e?.exprKind;
    switch (k?.case) {
      case "identExpr":
        return k.value.name === name;
      case "selectExpr":
        return mentions(k.value.operand, name);
      case "callExpr":
        return (k.value.target !== undefined && mentions(k.value.target, name)) ||
          k.value.args.some((a: any) => mentions(a, name));
      case "listExpr":
        return k.value.elements.some((a: any) => mentions(a, name));
      case "structExpr":
        return k.value.entries.some((e: any) =>
          (e.keyKind.case === "mapKey" && mentions(e.keyKind.value, name)) ||
          mentions(e.value, name)
        );
      case "comprehensionExpr": {
        const c = k.value;
        if (mentions(c.iterRange, name) || mentions(c.accuInit, name)) return true;
        if (c.accuVar === name) return false;
        if (mentions(c.result, name)) return true;
        if (c.iterVar === name || c.iterVar2 === name) return false;
        return mentions(c.loopCondition, name) || mentions(c.loopStep, name);
      }
    }
    return false;
  }

  return comprehension;
}
