// The compiled fast path of the sandbox (docs/design/0007-cel-compiled-fast-path.md):
// turns @bufbuild/cel's parsed AST into a JavaScript function, made with
// `new Function` inside QuickJS, that the runner tries before the library.
//
// The one rule: a compiled function returns a value only when it is certainly
// the value the library would return. On anything else (a kind of value it does
// not know, a missing key, an overflow, any error) it returns undefined and the
// library evaluates the expression (CEL has no side effects, so running it
// again is safe; errors and their messages always come from the library).
// Expressions with a construct compiled code does not handle are not compiled.
//
// This file holds the driver and the leaves (constants, names, fields, list and
// map literals); calls are in sandbox_compile_calls.ts, comprehensions in
// sandbox_compile_loops.ts. All are shipped as source text into QuickJS like the
// rest of the sandbox program, so each uses nothing but its parameters.

// deno-lint-ignore-file no-explicit-any
import type { CompiledOps } from "./sandbox_compiled_ops.ts";

/** What the generator knows statically about a value: its CEL kind, or "dyn". */
export type Kind = "int" | "double" | "string" | "bool" | "null" | "list" | "map" | "dyn";

/**
 * A generated value: a cheap, pure JS expression (a variable, a constant) that
 * is never undefined once computed; its kind; and, for ints known to be safe
 * integers, the same value as a JS number (cheaper to compare than a bigint).
 */
export interface V {
  c: string;
  t: Kind;
  n?: string;
}

/** CEL names bound by comprehensions, innermost first. */
export interface Scope {
  name: string;
  js: string;
  t: Kind;
  up?: Scope;
}

/** What the parts of the compiler share while one expression is compiled. */
export interface Emitter {
  env: any;
  R: CompiledOps;
  /** Thrown while compiling: the expression is left to the library. */
  NOPE: unknown;
  tmp(): string;
  /** A constant, passed to the generated code rather than written into it. */
  lit(v: unknown): string;
  emit(line: string): void;
  /** Runs `fn` collecting what it emits, for a block of its own. */
  sub<T>(fn: () => T): [string, T];
  value(code: string, t: Kind): V;
  /** `v` as a value of kind `t`, checked at run time if only known as dyn. */
  assume(v: V, t: Kind): V;
  /** Drops a check that `v` is defined emitted just before: what follows throws on undefined. */
  settled(v: V): void;
  gen(e: any, s: Scope | undefined): V;
}

/** Makes the compiler of one kind of node for an expression being compiled. */
export type PartCompiler = (x: Emitter) => (node: any, s: Scope | undefined) => V;

/**
 * A compiler for one CEL environment. `env` is the library's (its registry and
 * functions decide how names resolve); `makeOps` builds the run-time operations.
 */
export function celCompiler(
  env: any,
  makeOps: (fail: unknown) => CompiledOps,
  parts: { call: PartCompiler; comprehension: PartCompiler },
) {
  const F = { fallback: true };
  const R = makeOps(F);
  const NOPE = { unsupported: true };
  const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
  // `google.protobuf.Timestamp` names a type before it reads a variable
  // `google`; expressions naming such a root are left to the library.
  const roots = new Set<string>();
  for (const t of env.registry) roots.add(String(t.typeName).split(".")[0]);
  const undefinedCheck = (c: string) => `if (${c} === undefined) throw F;`;

  function compile(expr: any): ((vars: any) => any) | undefined {
    const consts: unknown[] = [];
    let count = 0;
    let out: string[] = [];
    const x: Emitter = {
      env,
      R,
      NOPE,
      tmp: () => `t${count++}`,
      lit: (v) => `k${consts.push(v) - 1}`,
      emit: (line) => void out.push(line),
      sub<T>(fn: () => T): [string, T] {
        const saved = out;
        out = [];
        try {
          const v = fn();
          return [out.join("\n"), v];
        } finally {
          out = saved;
        }
      },
      value(c, t) {
        // Function-scoped vars: QuickJS reads them faster than let and const,
        // and every name is unique, so block scoping is not needed.
        const name = x.tmp();
        out.push(`var ${name} = ${c};`);
        return { c: name, t };
      },
      assume(v, t) {
        if (v.t === t) return v;
        if (v.t !== "dyn") throw NOPE;
        const test: Record<string, string | undefined> = {
          int: `typeof ${v.c} !== "bigint"`,
          double: `typeof ${v.c} !== "number"`,
          string: `typeof ${v.c} !== "string"`,
          bool: `typeof ${v.c} !== "boolean"`,
          list: `!isA(${v.c})`,
          map: `!(${v.c} instanceof Mp)`,
        };
        if (test[t] === undefined) throw NOPE;
        x.settled(v);
        out.push(`if (${test[t]}) throw F;`);
        return { c: v.c, t };
      },
      settled(v) {
        if (out[out.length - 1] === undefinedCheck(v.c)) out.pop();
      },
      gen,
    };
    const call = parts.call(x);
    const comprehension = parts.comprehension(x);

    function gen(e: any, s: Scope | undefined): V {
      const k = e.exprKind;
      switch (k.case) {
        case "constExpr":
          return constant(k.value.constantKind);
        case "identExpr":
          return ident(k.value.name, s);
        case "selectExpr":
          return select(k.value, s);
        case "callExpr":
          return call(k.value, s);
        case "listExpr": {
          if (k.value.optionalIndices.length > 0) throw NOPE;
          const items = k.value.elements.map((e: any) => gen(e, s).c);
          return x.value(`[${items.join(", ")}]`, "list");
        }
        case "structExpr":
          return struct(k.value, s);
        case "comprehensionExpr":
          return comprehension(k.value, s);
      }
      throw NOPE;
    }

    function constant(c: any): V {
      const v = c.value;
      switch (c.case) {
        case "int64Value":
          if (typeof v !== "bigint") throw NOPE;
          return Number.isSafeInteger(Number(v))
            ? { c: x.lit(v), t: "int", n: `(${Number(v)})` }
            : { c: x.lit(v), t: "int" };
        case "doubleValue":
          return { c: x.lit(v), t: "double" };
        case "stringValue":
          return { c: x.lit(v), t: "string" };
        case "boolValue":
          return { c: v ? "true" : "false", t: "bool" };
        case "nullValue":
          return { c: "null", t: "null" };
      }
      throw NOPE;
    }

    function ident(name: string, s: Scope | undefined): V {
      if (roots.has(name)) throw NOPE;
      for (let b = s; b; b = b.up) if (b.name === name) return { c: b.js, t: b.t };
      // `vars` has no prototype, but "__proto__" is special to the library's `{}`.
      if (!NAME.test(name) || name === "__proto__") throw NOPE;
      const v = x.value(`vars.${name}`, "dyn");
      x.emit(undefinedCheck(v.c));
      return v;
    }

    function select(sel: any, s: Scope | undefined): V {
      // Field names are written into the code, so only plain identifiers.
      if (!NAME.test(sel.field)) throw NOPE;
      const o = gen(sel.operand, s);
      const f = JSON.stringify(sel.field);
      if (sel.testOnly) {
        // has(): the library's map.has() is `get(key) != undefined`, so a null
        // value counts as absent; scalars and lists have no fields.
        if (o.t !== "map" && o.t !== "dyn") return { c: "false", t: "bool" };
        const r = x.value("false", "bool");
        const got = x.tmp();
        const present =
          `var ${got} = ${o.c}.get(${f}); ${r.c} = ${got} !== undefined && ${got} !== null;`;
        if (o.t === "map") x.emit(present);
        else x.emit(`if (${o.c} instanceof Mp) { ${present} } else ${r.c} = R.hasOther(${o.c});`);
        return r;
      }
      if (o.t !== "map" && o.t !== "dyn") throw NOPE;
      // No test that a dyn operand is a Map: among the values compiled code
      // meets (the adapters' fromWire, its own lists and maps), only a Map has
      // a `get` method; on any other, calling it throws, which falls back.
      x.settled(o);
      const v = x.value(`${o.c}.get(${f})`, "dyn");
      x.emit(undefinedCheck(v.c));
      return v;
    }

    function struct(st: any, s: Scope | undefined): V {
      if (st.messageName !== "") throw NOPE;
      const m = x.value("new Mp()", "map");
      for (const entry of st.entries) {
        if (entry.keyKind.case !== "mapKey" || entry.optionalEntry) throw NOPE;
        const key = gen(entry.keyKind.value, s);
        if (key.t !== "dyn" && key.t !== "string" && key.t !== "int" && key.t !== "bool") {
          throw NOPE;
        }
        if (key.t === "dyn") x.emit(`R.mapKey(${key.c});`);
        const v = gen(entry.value, s);
        x.emit(`if (${m.c}.has(${key.c})) throw F;\n${m.c}.set(${key.c}, ${v.c});`);
      }
      return m;
    }

    const [body, result] = x.sub(() => gen(expr, undefined));
    const source = `"use strict";\nvar Mp = Map, isA = Array.isArray, Bi = BigInt;\n` +
      consts.map((_, i) => `var k${i} = K[${i}];`).join("\n") +
      `\nreturn function (vars) {\ntry {\n${body}\nreturn ${result.c};\n` +
      `} catch (e) {\nreturn undefined;\n}\n};`;
    return new Function("K", "R", "F", source)(consts, R, F);
  }

  return {
    /** A function of the variables, or undefined if the expression is not compiled. */
    compile(expr: any): ((vars: any) => any) | undefined {
      try {
        return compile(expr);
      } catch {
        // Unsupported, or too deep to compile: the library evaluates it.
        return undefined;
      }
    },
  };
}
