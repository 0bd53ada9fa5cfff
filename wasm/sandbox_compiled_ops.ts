// The run-time operations of compiled CEL expressions (sandbox_compiler.ts),
// for operands whose kinds are only known at run time. Shipped as source text
// into QuickJS like the rest of the sandbox program, so `compiledOps` uses
// nothing but its parameter.
//
// Every operation mirrors what @bufbuild/cel 0.6 does for the same values and
// returns a value only when it is certainly the library's; otherwise it throws
// `F`, and the expression is evaluated again by the library. Values are the
// library's inputs as the adapters make them: bigint (int), number (double),
// string, boolean, null, Array (list), Map (map). Anything else (uint objects,
// bytes, …) is a kind these operations do not know, and they throw F on it.

// deno-lint-ignore-file no-explicit-any

/** The operations, throwing `F` whenever the library's result is not certain. */
export function compiledOps(F: unknown) {
  const MAX = 9223372036854775807n;
  const MIN = -9223372036854775808n;
  // JS compares strings by UTF-16 code units, CEL by code points: they differ
  // only around surrogates, where the library's answer is left to the library.
  const SURROGATE = /[\uD800-\uDFFF]/;
  // The library concatenates lists lazily (a view over both operands); the
  // compiled code copies. A list doubled in nested map() costs the copy
  // exponentially more, and one big copy cannot be interrupted, so past this
  // many elements the expression is left to the library (issue 18).
  const MAX_COPIED_CONCAT = 1024;

  /** The kind of a value, or "" for one the compiled code does not know. */
  function kind(v: any): string {
    switch (typeof v) {
      case "bigint":
        return "int";
      case "number":
        return "double";
      case "string":
        return "string";
      case "boolean":
        return "bool";
      case "object":
        if (v === null) return "null";
        if (Array.isArray(v)) return "list";
        if (v instanceof Map) return "map";
    }
    return "";
  }

  function int(n: any): bigint {
    if (n > MAX || n < MIN) throw F;
    return n;
  }

  /** CEL equality as the library computes it (equals.js). */
  function eq(a: any, b: any): boolean {
    const ka = kind(a);
    const kb = kind(b);
    if (ka === "" || kb === "") throw F;
    if (ka !== kb) {
      // int against double compares by value in the library; left to it.
      if ((ka === "int" && kb === "double") || (ka === "double" && kb === "int")) throw F;
      return false;
    }
    if (ka === "list") {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!eq(a[i], b[i])) return false;
      return true;
    }
    if (ka === "map") return mapEq(a, b);
    // Same primitive kind: NaN differs from itself and -0 equals 0, as in the library.
    return a === b;
  }

  function mapEq(a: Map<any, any>, b: Map<any, any>): boolean {
    // The library looks bigint keys up among uint keys too; with keys of the
    // kinds below only, a plain lookup is the whole story.
    for (const m of [a, b]) {
      for (const k of m.keys()) {
        const t = typeof k;
        if (t !== "string" && t !== "bigint" && t !== "boolean") throw F;
      }
    }
    if (a.size !== b.size) return false;
    for (const [k, v] of a) {
      const w = b.get(k);
      if (w === undefined || !eq(v, w)) return false;
    }
    return true;
  }

  /** Both operands of <, <=, >, >= are of one ordered kind (then JS's operator is the library's). */
  function ordered(a: any, b: any): void {
    const ka = kind(a);
    if (ka !== kind(b)) throw F;
    if (ka === "string") {
      if (SURROGATE.test(a) || SURROGATE.test(b)) throw F;
    } else if (ka !== "int" && ka !== "double" && ka !== "bool") throw F;
  }

  function add(a: any, b: any): any {
    const ka = kind(a);
    if (ka !== kind(b)) throw F;
    switch (ka) {
      case "int":
        return int(a + b);
      case "double":
      case "string":
        return a + b;
      case "list":
        if (a.length + b.length > MAX_COPIED_CONCAT) throw F;
        return a.concat(b);
    }
    throw F;
  }

  function sub(a: any, b: any): any {
    const ka = kind(a);
    if (ka !== kind(b)) throw F;
    if (ka === "int") return int(a - b);
    if (ka === "double") return a - b;
    throw F;
  }

  function mul(a: any, b: any): any {
    const ka = kind(a);
    if (ka !== kind(b)) throw F;
    if (ka === "int") return int(a * b);
    if (ka === "double") return a * b;
    throw F;
  }

  function div(a: any, b: any): any {
    const ka = kind(a);
    if (ka !== kind(b)) throw F;
    if (ka === "double") return a / b;
    if (ka !== "int" || b === 0n) throw F;
    return int(a / b);
  }

  function mod(a: any, b: any): any {
    if (typeof a !== "bigint" || typeof b !== "bigint" || b === 0n) throw F;
    return a % b;
  }

  function neg(a: any): any {
    if (typeof a === "bigint") return int(-a);
    if (typeof a === "number") return -a;
    throw F;
  }

  /** size() as a JS number: code points of a string, elements of a list, entries of a map. */
  function size(v: any): number {
    switch (kind(v)) {
      case "string":
        return SURROGATE.test(v) ? [...v].length : v.length;
      case "list":
        return v.length;
      case "map":
        return v.size;
    }
    throw F;
  }

  /** string(): the library's toString of bool, int and double. */
  function str(v: any): string {
    switch (typeof v) {
      case "string":
        return v;
      case "boolean":
      case "bigint":
      case "number":
        return v.toString();
    }
    throw F;
  }

  function toInt(v: any): bigint {
    switch (typeof v) {
      case "bigint":
        return v;
      case "string":
        return int(BigInt(v));
      case "number":
        // The library's bounds: the doubles nearest the int64 limits are out.
        if (Number.isFinite(v) && v > -9223372036854775808 && v < 9223372036854775807) {
          return BigInt(Math.trunc(v));
        }
    }
    throw F;
  }

  function toDouble(v: any): number {
    switch (typeof v) {
      case "number":
        return v;
      case "bigint":
      case "string":
        return Number(v);
    }
    throw F;
  }

  function toBool(v: any): boolean {
    if (typeof v === "boolean") return v;
    switch (v) {
      case "true":
      case "True":
      case "TRUE":
      case "t":
      case "1":
        return true;
      case "false":
      case "False":
      case "FALSE":
      case "f":
      case "0":
        return false;
    }
    throw F;
  }

  /** A map's value for a key as the library finds it, or F. */
  function mapGet(m: Map<any, any>, k: any): any {
    const t = typeof k;
    if (t !== "string" && t !== "bigint" && t !== "boolean") throw F;
    const v = m.get(k);
    if (v === undefined) throw F;
    return v;
  }

  /** `v in c` (logic.js: inList, inMap). */
  function inOp(v: any, c: any): boolean {
    if (Array.isArray(c)) {
      for (let i = 0; i < c.length; i++) if (eq(c[i], v)) return true;
      return false;
    }
    if (!(c instanceof Map)) throw F;
    const t = typeof v;
    if (t !== "string" && t !== "bigint" && t !== "boolean") throw F;
    const found = c.get(v);
    // The library's map.has() is `get(key) != undefined`: a null value is absent.
    if (found !== undefined) return found !== null;
    // A bigint key may still match one of the library's uint keys.
    if (t === "bigint") { for (const k of c.keys()) if (typeof k === "object") throw F; }
    return false;
  }

  /** `c[k]` (access.js: IntAccess, StringAccess, BoolAccess on lists and maps). */
  function index(c: any, k: any): any {
    if (Array.isArray(c)) {
      if (typeof k !== "bigint" || k < 0n || k >= BigInt(c.length)) throw F;
      return c[Number(k)];
    }
    if (c instanceof Map) return mapGet(c, k);
    throw F;
  }

  /** has(c.f) for an operand that is not a map: false for scalars and lists. */
  function hasOther(c: any): boolean {
    if (typeof c !== "object" || c === null || Array.isArray(c)) return false;
    throw F;
  }

  /** A map literal's key, checked as the library's EvalMap.mapKeyOrError does. */
  function mapKey(k: any): any {
    const t = typeof k;
    if (t !== "string" && t !== "bigint" && t !== "boolean") throw F;
    return k;
  }

  return {
    MAX,
    MIN,
    SURROGATE,
    eq,
    ordered,
    add,
    sub,
    mul,
    div,
    mod,
    neg,
    size,
    str,
    toInt,
    toDouble,
    toBool,
    mapGet,
    inOp,
    index,
    hasOther,
    mapKey,
  };
}

export type CompiledOps = ReturnType<typeof compiledOps>;
