// The library adapters of the sandbox program: how each CEL library compiles
// an expression, converts values in and out, and finds the variables an
// expression reads. Like sandbox_program.ts, each function is shipped as
// source text into QuickJS, so it must use nothing but its parameters.

// deno-lint-ignore-file no-explicit-any
import type { Adapter, FastCompiler, ValueHelpers, WireMode } from "./sandbox_values.ts";

/** The extension libraries written beside @bufbuild/cel (sandbox_extensions.ts). */
export interface CelExtensions {
  funcs(L: any): any[];
  expand(expr: any): any;
}

/**
 * @bufbuild/cel: the default (docs/design/0004-cel-sandbox.md), with the
 * compiled fast path when `fast` is given (docs/design/0007).
 */
export function bufbuildAdapter(
  L: any,
  h: ValueHelpers,
  fast?: FastCompiler,
  ext?: CelExtensions,
): Adapter {
  // The library's own `strings` extension, and those written beside it (sandbox_extensions.ts).
  const funcs = [...L.ext.strings, ...(ext?.funcs(L) ?? [])];
  const env = L.celEnv({ funcs });
  // `math.greatest(…)` calls a function of that name: `math` is no variable.
  const qualified = new Set(funcs.map((f: any) => f.name).filter((n: string) => n.includes(".")));
  const expand = ext?.expand ?? ((e: any) => e);
  const compiler = fast ? fast(env) : undefined;
  const toJson = (v: any): unknown => {
    switch (typeof v) {
      case "bigint":
        return h.safeNumber(v, "int");
      case "number":
        return h.jsonDouble(v);
      case "string":
      case "boolean":
        return v;
    }
    if (v === null) return null;
    // Plain arrays and Maps come from the fast path, the library's lists and maps from it.
    if (Array.isArray(v)) return plainJson(v) ? v : v.map(toJson);
    if (v instanceof Uint8Array) return h.base64(v);
    if (L.isCelUint(v)) return h.safeNumber(v.value, "uint");
    if (L.isCelList(v)) return Array.from(v, toJson);
    if (v instanceof Map || L.isCelMap(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of v) {
        out[typeof k === "object" ? String(k.value) : String(k)] = toJson(x);
      }
      return out;
    }
    if (L.isCelType(v)) return v.name;
    const typeName = v && v.desc && v.desc.typeName;
    const msg = v.message;
    if (typeName === "google.protobuf.Timestamp") return h.rfc3339(msg.seconds, msg.nanos);
    if (typeName === "google.protobuf.Duration") return h.durationText(msg.seconds, msg.nanos);
    throw new Error(`a value of type ${typeName ?? typeof v} cannot be returned`);
  };
  /** An array of strings, booleans and nulls is its own JSON: no copy needed. */
  const plainJson = (a: any[]): boolean => {
    for (let i = 0; i < a.length; i++) {
      const t = typeof a[i];
      if (t !== "string" && t !== "boolean" && a[i] !== null) return false;
    }
    return true;
  };
  const toTyped = (v: any): unknown => {
    switch (typeof v) {
      case "bigint":
        return { int64Value: String(v) };
      case "number":
        return { doubleValue: h.typedDouble(v) };
      case "string":
        return { stringValue: v };
      case "boolean":
        return { boolValue: v };
    }
    if (v === null) return { nullValue: null };
    if (v instanceof Uint8Array) return { bytesValue: h.base64(v) };
    if (L.isCelUint(v)) return { uint64Value: String(v.value) };
    if (Array.isArray(v) || L.isCelList(v)) {
      return { listValue: { values: Array.from(v, toTyped) } };
    }
    if (v instanceof Map || L.isCelMap(v)) {
      const entries = [];
      for (const [k, x] of v) entries.push({ key: toTyped(k), value: toTyped(x) });
      return { mapValue: { entries } };
    }
    if (L.isCelType(v)) return { typeValue: v.name };
    throw new Error(`a value of type ${v?.desc?.typeName ?? typeof v} has no typed form`);
  };
  const fromJson = (v: any): any => {
    if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : v;
    if (Array.isArray(v)) return v.map(fromJson);
    if (v !== null && typeof v === "object") {
      const m = new Map();
      for (const k of Object.keys(v)) m.set(k, fromJson(v[k]));
      return m;
    }
    return v;
  };
  const fromTyped = (v: any): any => h.fromTyped(v, (n: bigint) => L.celUint(n));
  return {
    compile(source: string) {
      const parsed = L.parse(source);
      const program = L.plan(env, { ...parsed, expr: expand(parsed.expr) });
      const run = (bindings: any) => {
        const r = program(bindings);
        if (L.isCelError(r)) {
          // The library's words for a missing variable, field or key; say so.
          if (r.message === "unresolved attribute") {
            throw new Error("unresolved attribute: no such variable, field or key");
          }
          throw r;
        }
        return r;
      };
      return { run, fast: compiler?.compile(parsed.expr) };
    },
    toWire: (v: any, m: WireMode) => m === "json" ? toJson(v) : toTyped(v),
    fromWire: (v: any, m: WireMode) => m === "json" ? fromJson(v) : fromTyped(v),
    references(source: string) {
      return bufbuildReferences(expand(L.parse(source).expr));
    },
  };

  /**
   * Top-level names an expression reads, minus comprehension variables in
   * scope; and for each, the fields it selects by a literal name
   * (`env.HOME`, `env["HOME"]`).
   */
  function bufbuildReferences(root: any) {
    const found = new Set<string>();
    const fields: Record<string, string[]> = {};
    const field = (operand: any, name: unknown, bound: Set<string>) => {
      const k = operand?.exprKind;
      if (k?.case !== "identExpr" || bound.has(k.value.name) || typeof name !== "string") return;
      const list = fields[k.value.name] ??= [];
      if (!list.includes(name)) list.push(name);
    };
    const namesFunction = (target: any, name: string, bound: Set<string>) => {
      const t = target.exprKind;
      return t?.case === "identExpr" && !bound.has(t.value.name) &&
        qualified.has(`${t.value.name}.${name}`);
    };
    const walk = (e: any, bound: Set<string>) => {
      const k = e?.exprKind;
      if (!k) return;
      switch (k.case) {
        case "identExpr":
          if (!bound.has(k.value.name)) found.add(k.value.name);
          return;
        case "selectExpr":
          field(k.value.operand, k.value.field, bound);
          return walk(k.value.operand, bound);
        case "callExpr":
          if (k.value.function === "_[_]" && k.value.args.length === 2) {
            const key = k.value.args[1]?.exprKind;
            if (key?.case === "constExpr" && key.value.constantKind?.case === "stringValue") {
              field(k.value.args[0], key.value.constantKind.value, bound);
            }
          }
          if (k.value.target && !namesFunction(k.value.target, k.value.function, bound)) {
            walk(k.value.target, bound);
          }
          for (const a of k.value.args) walk(a, bound);
          return;
        case "listExpr":
          for (const x of k.value.elements) walk(x, bound);
          return;
        case "structExpr":
          for (const x of k.value.entries) {
            if (x.keyKind?.case === "mapKey") walk(x.keyKind.value, bound);
            walk(x.value, bound);
          }
          return;
        case "comprehensionExpr": {
          const c = k.value;
          walk(c.iterRange, bound);
          walk(c.accuInit, bound);
          const inner = new Set(bound);
          for (const n of [c.iterVar, c.iterVar2, c.accuVar]) if (n) inner.add(n);
          walk(c.loopCondition, inner);
          walk(c.loopStep, inner);
          walk(c.result, inner);
          return;
        }
      }
    };
    walk(root, new Set());
    return { names: [...found], fields };
  }
}

/** @marcbachmann/cel-js: kept for the comparison in bench/cel.ts. */
export function marcAdapter(L: any, h: ValueHelpers): Adapter {
  const options = { unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false };
  const env = new L.Environment(options);
  const isUint = (v: any) => v instanceof L.UnsignedInt;
  const isDuration = (v: any) => v instanceof L.Duration;
  const isType = (v: any) => v && typeof v === "object" && /^Type</.test(String(v));
  const timestamp = (d: Date) => {
    const ms = d.getTime();
    const seconds = BigInt(Math.floor(ms / 1000));
    return h.rfc3339(seconds, (ms - Number(seconds) * 1000) * 1e6);
  };
  const toJson = (v: any): unknown => {
    switch (typeof v) {
      case "bigint":
        return h.safeNumber(v, "int");
      case "number":
        return h.jsonDouble(v);
      case "string":
      case "boolean":
        return v;
    }
    if (v === null) return null;
    if (v instanceof Uint8Array) return h.base64(v);
    if (isUint(v)) return h.safeNumber(v.value, "uint");
    if (Array.isArray(v)) return v.map(toJson);
    if (v instanceof Date) return timestamp(v);
    if (isDuration(v)) return h.durationText(v.seconds, v.nanos);
    if (isType(v)) return v.name;
    const out: Record<string, unknown> = {};
    const entries = v instanceof Map ? [...v] : Object.entries(v);
    for (const [k, x] of entries) out[String(isUint(k) ? k.value : k)] = toJson(x);
    return out;
  };
  const toTyped = (v: any): unknown => {
    switch (typeof v) {
      case "bigint":
        return { int64Value: String(v) };
      case "number":
        return { doubleValue: h.typedDouble(v) };
      case "string":
        return { stringValue: v };
      case "boolean":
        return { boolValue: v };
    }
    if (v === null) return { nullValue: null };
    if (v instanceof Uint8Array) return { bytesValue: h.base64(v) };
    if (isUint(v)) return { uint64Value: String(v.value) };
    if (Array.isArray(v)) return { listValue: { values: v.map(toTyped) } };
    if (isType(v)) return { typeValue: v.name };
    if (v instanceof Date || isDuration(v)) throw new Error("timestamps have no typed form");
    const entries = v instanceof Map ? [...v] : Object.entries(v);
    return {
      mapValue: { entries: entries.map(([k, x]) => ({ key: toTyped(k), value: toTyped(x) })) },
    };
  };
  const fromJson = (v: any): any => {
    if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : v;
    if (Array.isArray(v)) return v.map(fromJson);
    if (v !== null && typeof v === "object") {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v)) o[k] = fromJson(v[k]);
      return o;
    }
    return v;
  };
  const fromTyped = (v: any): any => h.fromTyped(v, (n: bigint) => new L.UnsignedInt(n));
  return {
    compile: (source: string) => ({ run: env.parse(source) }),
    toWire: (v: any, m: WireMode) => m === "json" ? toJson(v) : toTyped(v),
    fromWire: (v: any, m: WireMode) => m === "json" ? fromJson(v) : fromTyped(v),
    references(source: string) {
      return { names: freeVariables(source), fields: {} };
    },
  };

  function freeVariables(source: string): string[] {
    // The library's own checker, strict about undeclared names: it reports
    // one unknown name per run, so declare each found one (dyn) and rerun.
    const names: string[] = [];
    for (let i = 0; i < 100; i++) {
      const strict = new L.Environment({ ...options, unlistedVariablesAreDyn: false });
      for (const n of names) strict.registerVariable(n, "dyn");
      const r = strict.check(source);
      if (r.valid) return names;
      const m = /Unknown variable: (\w+)/.exec(r.error.message);
      if (!m) throw r.error;
      names.push(m[1]);
    }
    return names;
  }
}
