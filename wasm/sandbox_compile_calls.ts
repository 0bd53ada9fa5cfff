// Calls of the compiled fast path (sandbox_compiler.ts): operators, the logic
// of &&, || and ?: , and the functions and methods it handles (size, string,
// int, double, bool, dyn, startsWith, endsWith, contains). Each mirrors the
// overload of @bufbuild/cel 0.6 that the library would pick; operands of a
// kind known only at run time go through the checked operations of
// sandbox_compiled_ops.ts. Shipped as source text: uses only its parameter.

// deno-lint-ignore-file no-explicit-any
import type { Emitter, Scope, V } from "./sandbox_compiler.ts";

/** Compiles a callExpr for the expression `x` is compiling. */
export function callCompiler(x: Emitter) {
  const { NOPE, R } = x;
  const ORDER: Record<string, string> = { "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=" };
  const ARITHMETIC: Record<string, string> = {
    "_+_": "add",
    "_-_": "sub",
    "_*_": "mul",
    "_/_": "div",
    "_%_": "mod",
  };
  const METHODS: Record<string, string> = {
    startsWith: "startsWith",
    endsWith: "endsWith",
    contains: "includes",
  };
  const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

  function call(c: any, s: Scope | undefined): V {
    const fn: string = c.function;
    const args: any[] = c.args;
    if (c.target) {
      // The library first tries `a.b.fn` as one qualified function name.
      const q = qualified(c.target);
      if (q !== undefined && x.env.funcs.find(`${q}.${fn}`) !== undefined) throw NOPE;
      const target = x.gen(c.target, s);
      if (fn === "size" && args.length === 0) return size(target);
      if (!own(METHODS, fn) || args.length !== 1) throw NOPE;
      const str = x.assume(target, "string");
      const a = x.assume(x.gen(args[0], s), "string");
      return x.value(`${str.c}.${METHODS[fn]}(${a.c})`, "bool");
    }
    if (fn === "_&&_" || fn === "_||_") return logical(fn === "_&&_", args, s);
    if (fn === "_?_:_") return conditional(args, s);
    const vs = args.map((a) => x.gen(a, s));
    if (vs.length === 1) return unary(fn, vs[0]);
    if (vs.length === 2) return binary(fn, vs[0], vs[1]);
    throw NOPE;
  }

  function qualified(e: any): string | undefined {
    const k = e.exprKind;
    if (k.case === "identExpr") return k.value.name;
    if (k.case !== "selectExpr" || k.value.testOnly) return undefined;
    const up = qualified(k.value.operand);
    return up === undefined ? undefined : `${up}.${k.value.field}`;
  }

  /** The library evaluates left to right and stops at the first false (&&) or true (||). */
  function logical(and: boolean, args: any[], s: Scope | undefined): V {
    if (args.length !== 2) throw NOPE;
    const a = x.gen(args[0], s);
    if (a.t !== "bool" && a.t !== "dyn") throw NOPE;
    const [go, stop] = and ? ["true", "false"] : ["false", "true"];
    const r = x.value(stop, "bool");
    const [lines, b] = x.sub(() => x.assume(x.gen(args[1], s), "bool"));
    // A non-bool left operand is an error the library may still absorb: its call.
    const rest = a.t === "bool" ? "" : ` else if (${a.c} !== ${stop}) throw F;`;
    x.emit(`if (${a.c} === ${go}) {\n${lines}\n${r.c} = ${b.c};\n}${rest}`);
    return r;
  }

  function conditional(args: any[], s: Scope | undefined): V {
    if (args.length !== 3) throw NOPE;
    const cond = x.gen(args[0], s);
    if (cond.t !== "bool" && cond.t !== "dyn") throw NOPE;
    const r = x.tmp();
    const [l1, v1] = x.sub(() => x.gen(args[1], s));
    const [l2, v2] = x.sub(() => x.gen(args[2], s));
    const no = cond.t === "bool" ? "" : `if (${cond.c} === false) `;
    const rest = cond.t === "bool" ? "" : " else throw F;";
    x.emit(
      `var ${r};\nif (${cond.c} === true) {\n${l1}\n${r} = ${v1.c};\n} ` +
        `else ${no}{\n${l2}\n${r} = ${v2.c};\n}${rest}`,
    );
    return { c: r, t: v1.t === v2.t ? v1.t : "dyn" };
  }

  function size(v: V): V {
    if (v.t !== "dyn" && v.t !== "string" && v.t !== "list" && v.t !== "map") throw NOPE;
    x.settled(v);
    // As a JS number, made a bigint only where one is needed.
    const n = x.value(`R.size(${v.c})`, "dyn");
    return { c: `Bi(${n.c})`, t: "int", n: n.c };
  }

  function unary(fn: string, v: V): V {
    switch (fn) {
      case "!_":
        return x.value(`!${x.assume(v, "bool").c}`, "bool");
      case "-_":
        if (v.t === "double") return x.value(`-${v.c}`, "double");
        return x.value(`R.neg(${v.c})`, v.t === "int" ? "int" : "dyn");
      case "@not_strictly_false":
      case "__not_strictly_false__":
        // Compiled values are never errors, so only false is strictly false.
        return x.value(`${v.c} !== false`, "bool");
      case "size":
        return size(v);
      case "string":
        return v.t === "string" ? v : x.value(`R.str(${v.c})`, "string");
      case "int":
        return v.t === "int" ? v : x.value(`R.toInt(${v.c})`, "int");
      case "double":
        return v.t === "double" ? v : x.value(`R.toDouble(${v.c})`, "double");
      case "bool":
        return v.t === "bool" ? v : x.value(`R.toBool(${v.c})`, "bool");
      case "dyn":
        return v;
    }
    throw NOPE;
  }

  function binary(fn: string, a: V, b: V): V {
    if (fn === "_==_" || fn === "_!=_") return equality(fn === "_!=_" ? "!" : "", a, b);
    if (own(ORDER, fn)) return order(ORDER[fn], a, b);
    if (own(ARITHMETIC, fn)) return arithmetic(fn[1], ARITHMETIC[fn], a, b);
    if (fn === "@in") return x.value(`R.inOp(${a.c}, ${b.c})`, "bool");
    if (fn !== "_[_]") throw NOPE;
    if (a.t === "map" && b.t === "string") {
      const v = x.value(`${a.c}.get(${b.c})`, "dyn");
      x.emit(`if (${v.c} === undefined) throw F;`);
      return v;
    }
    return x.value(`R.index(${a.c}, ${b.c})`, "dyn");
  }

  function equality(not: string, a: V, b: V): V {
    if (a.n !== undefined && b.n !== undefined) return x.value(`${not}(${a.n} === ${b.n})`, "bool");
    // Against a string, bool or null the library's equality is === whatever
    // the other kind; so it is for two ints or two doubles.
    const plain = ["string", "bool", "null"];
    if (
      plain.includes(a.t) || plain.includes(b.t) ||
      (a.t === b.t && (a.t === "int" || a.t === "double"))
    ) return x.value(`${not}(${a.c} === ${b.c})`, "bool");
    return x.value(`${not}R.eq(${a.c}, ${b.c})`, "bool");
  }

  function order(op: string, a: V, b: V): V {
    if (a.n !== undefined && b.n !== undefined) return x.value(`${a.n} ${op} ${b.n}`, "bool");
    if (a.t === "dyn" && b.t === "dyn") {
      x.emit(`R.ordered(${a.c}, ${b.c});`);
      return x.value(`${a.c} ${op} ${b.c}`, "bool");
    }
    // One overload per kind, both operands of it: int, double, string or bool.
    const t = a.t === "dyn" ? b.t : a.t;
    if (t !== "int" && t !== "double" && t !== "string" && t !== "bool") throw NOPE;
    const l = x.assume(a, t);
    const r = x.assume(b, t);
    if (t === "string") {
      x.emit(`if (R.SURROGATE.test(${l.c}) || R.SURROGATE.test(${r.c})) throw F;`);
    }
    return x.value(`${l.c} ${op} ${r.c}`, "bool");
  }

  function arithmetic(op: string, name: string, a: V, b: V): V {
    const t = a.t !== "dyn" ? a.t : b.t;
    if (t === "dyn") return x.value(`R.${name}(${a.c}, ${b.c})`, "dyn");
    const l = x.assume(a, t);
    const r = x.assume(b, t);
    if (t === "int") {
      if (op === "/" || op === "%") x.emit(`if (${r.c} === 0n) throw F;`);
      const v = x.value(`${l.c} ${op} ${r.c}`, "int");
      if (op !== "%") x.emit(`if (${v.c} > ${R.MAX}n || ${v.c} < ${R.MIN}n) throw F;`);
      return v;
    }
    if (t === "double" && op !== "%") return x.value(`${l.c} ${op} ${r.c}`, "double");
    if (t === "string" && op === "+") return x.value(`${l.c} + ${r.c}`, "string");
    if (t === "list" && op === "+") return x.value(`${l.c}.concat(${r.c})`, "list");
    throw NOPE;
  }

  return call;
}
