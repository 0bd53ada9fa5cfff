// CEL extension libraries that @bufbuild/cel 0.6.1 does not provide, written
// here on its public function API (issue 18): `math` (math.greatest, …),
// `encoders` (base64.encode/decode) and `bindings` (cel.bind, as the
// comprehension CEL defines it to be). Each follows the cel-spec extension
// conformance cases (wasm/conformance_ext_test.ts). Also swamp's `data.*`
// functions, which read a snapshot the host binds as the variable `data`. Shipped as source text into
// QuickJS like the rest of the sandbox program, so each function uses nothing
// but its parameters. The compiled fast path does not know these names: an
// expression using them is evaluated by the library.

// deno-lint-ignore-file no-explicit-any

/** A CEL uint as the library holds it. */
type U = { value: bigint };

/** The functions of the `math` and `encoders` extensions, for `celEnv({ funcs })`. */
export function extensionFuncs(L: any): any[] {
  const { INT, UINT, DOUBLE, BOOL, STRING, BYTES, DYN } = L.CelScalar;
  const f = (name: string, args: any[], result: any, impl: (...a: any[]) => any) =>
    L.celFunc(name, args, result, impl);
  // Masks, not BigInt.asUintN: QuickJS's gives negative numbers back unchanged.
  const MASK = (1n << 64n) - 1n;
  const bits = (n: bigint) => n & MASK;
  const i64 = (n: bigint) => {
    const b = bits(n);
    return b >= 1n << 63n ? b - (1n << 64n) : b;
  };
  const u64 = (n: bigint) => L.celUint(bits(n));
  const MIN = -9223372036854775808n;

  // greatest / least: over numbers of any numeric kind, compared by value,
  // returned as they are; called with the numbers or with one list of them.
  const numeric = (v: any): { big?: bigint; num: number } => {
    if (typeof v === "bigint") return { big: v, num: Number(v) };
    if (L.isCelUint(v)) return { big: v.value, num: Number(v.value) };
    if (typeof v === "number") return { num: v };
    throw new Error("math.greatest and math.least take numbers (int, uint, double)");
  };
  const before = (a: any, b: any) => {
    const x = numeric(a);
    const y = numeric(b);
    return x.big !== undefined && y.big !== undefined ? x.big < y.big : x.num < y.num;
  };
  const pick = (name: string, better: (a: any, b: any) => boolean) => (...args: any[]) => {
    let items = args;
    if (args.length === 1 && L.isCelList(args[0])) items = [...args[0]];
    if (items.length === 0) throw new Error(`${name}(): no arguments`);
    let best = items[0];
    numeric(best);
    for (const v of items.slice(1)) if (better(v, best)) best = v;
    return best;
  };
  const greatest = pick("math.greatest", (a, b) => before(b, a));
  const least = pick("math.least", before);
  const funcs: any[] = [];
  for (let n = 1; n <= 8; n++) {
    const dyns = Array.from({ length: n }, () => DYN);
    funcs.push(f("math.greatest", dyns, DYN, greatest), f("math.least", dyns, DYN, least));
  }

  const roundHalfAway = (x: number) => x < 0 ? -Math.round(-x) : Math.round(x);
  const shift = (s: bigint) => {
    if (s < 0n) throw new Error(`math.bitShift: negative offset ${s}`);
    return s;
  };
  funcs.push(
    f("math.ceil", [DOUBLE], DOUBLE, Math.ceil),
    f("math.floor", [DOUBLE], DOUBLE, Math.floor),
    f("math.round", [DOUBLE], DOUBLE, roundHalfAway),
    f("math.trunc", [DOUBLE], DOUBLE, Math.trunc),
    f("math.abs", [INT], INT, (a: bigint) => {
      if (a === MIN) throw new Error("math.abs: int overflow");
      return a < 0n ? -a : a;
    }),
    f("math.abs", [UINT], UINT, (a: any) => a),
    f("math.abs", [DOUBLE], DOUBLE, Math.abs),
    f("math.sign", [INT], INT, (a: bigint) => a > 0n ? 1n : a < 0n ? -1n : 0n),
    f("math.sign", [UINT], UINT, (a: any) => L.celUint(a.value > 0n ? 1n : 0n)),
    f("math.sign", [DOUBLE], DOUBLE, Math.sign),
    f("math.isNaN", [DOUBLE], BOOL, Number.isNaN),
    f("math.isInf", [DOUBLE], BOOL, (a: number) => a === Infinity || a === -Infinity),
    f("math.isFinite", [DOUBLE], BOOL, Number.isFinite),
    f("math.sqrt", [DOUBLE], DOUBLE, Math.sqrt),
    f("math.sqrt", [INT], DOUBLE, (a: bigint) => Math.sqrt(Number(a))),
    f("math.sqrt", [UINT], DOUBLE, (a: any) => Math.sqrt(Number(a.value))),
    f("math.bitAnd", [INT, INT], INT, (a: bigint, b: bigint) => i64(a & b)),
    f("math.bitAnd", [UINT, UINT], UINT, (a: U, b: U) => u64(a.value & b.value)),
    f("math.bitOr", [INT, INT], INT, (a: bigint, b: bigint) => i64(a | b)),
    f("math.bitOr", [UINT, UINT], UINT, (a: U, b: U) => u64(a.value | b.value)),
    f("math.bitXor", [INT, INT], INT, (a: bigint, b: bigint) => i64(a ^ b)),
    f("math.bitXor", [UINT, UINT], UINT, (a: U, b: U) => u64(a.value ^ b.value)),
    f("math.bitNot", [INT], INT, (a: bigint) => i64(~a)),
    f("math.bitNot", [UINT], UINT, (a: U) => u64(~a.value)),
    f(
      "math.bitShiftLeft",
      [INT, INT],
      INT,
      (a: bigint, s: bigint) => shift(s) >= 64n ? 0n : i64(a << s),
    ),
    f(
      "math.bitShiftLeft",
      [UINT, INT],
      UINT,
      (a: any, s: bigint) => shift(s) >= 64n ? L.celUint(0n) : u64(a.value << s),
    ),
    // Right shifts are logical: the sign bit moves like any other.
    f(
      "math.bitShiftRight",
      [INT, INT],
      INT,
      (a: bigint, s: bigint) => shift(s) >= 64n ? 0n : i64(bits(a) >> s),
    ),
    f(
      "math.bitShiftRight",
      [UINT, INT],
      UINT,
      (a: any, s: bigint) => shift(s) >= 64n ? L.celUint(0n) : u64(a.value >> s),
    ),
  );

  // base64 (RFC 4648, standard alphabet); decoding accepts missing padding.
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const encode = (bytes: Uint8Array) => {
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      const chars = [18, 12, 6, 0].map((s) => ALPHABET[(n >> s) & 63]);
      const kept = Math.min(bytes.length - i, 3) + 1;
      out += chars.slice(0, kept).join("") + "=".repeat(4 - kept);
    }
    return out;
  };
  const decode = (text: string) => {
    const body = text.replace(/=+$/, "");
    if (body.length % 4 === 1 || !/^[A-Za-z0-9+/]*$/.test(body)) {
      throw new Error("base64.decode: not base64 text");
    }
    const out = new Uint8Array(Math.floor((body.length * 3) / 4));
    let bits = 0;
    let count = 0;
    let at = 0;
    for (const c of body) {
      bits = (bits << 6) | ALPHABET.indexOf(c);
      count += 6;
      if (count >= 8) {
        count -= 8;
        out[at++] = (bits >> count) & 255;
      }
    }
    return out;
  };
  funcs.push(
    f("base64.encode", [BYTES], STRING, encode),
    f("base64.decode", [STRING], BYTES, decode),
  );

  // swamp's data functions: `data.latest(m, n)` and its kin are rewritten
  // (expandBindings) to `__swamp_data(data, "latest", m, n)`, where the
  // variable `data` is the snapshot the host took for this evaluation: a map
  // from each call's function and arguments (joined by NUL) to its answer.
  const argText = (a: any) => L.isCelUint(a) ? String(a.value) : String(a);
  const lookup = (snapshot: any, fn: string, ...args: any[]) => {
    const key = [fn, ...args.map(argText)].join("\u0000");
    const found = snapshot && typeof snapshot.get === "function" ? snapshot.get(key) : undefined;
    if (found === undefined) {
      throw new Error(
        `data.${fn}(${
          args.map((a) => JSON.stringify(argText(a))).join(", ")
        }) was not read before the evaluation: its arguments must be known before the expression runs (literals, or expressions over inputs and steps, not a loop variable)`,
      );
    }
    return found;
  };
  funcs.push(
    f("__swamp_data", [DYN, STRING, DYN, DYN], DYN, lookup),
    f("__swamp_data", [DYN, STRING, DYN, DYN, DYN], DYN, lookup),
  );
  return funcs;
}

/**
 * The parsed expression with every `cel.bind(name, init, body)` made the
 * comprehension CEL defines it as: no iterations over an empty list, the
 * accumulator `name` starting as `init`, the result `body`. A new tree: the
 * parsed one is left as it was (the fast path compiles that one and leaves
 * `cel.bind` to the library).
 */
export function expandBindings(root: any): any {
  let nextId = 1 << 30; // far above the parser's ids
  const node = (exprKind: any) => ({ $typeName: "cel.expr.Expr", id: BigInt(nextId++), exprKind });
  const walk = (e: any): any => {
    if (e === null || typeof e !== "object") return e;
    if (Array.isArray(e)) {
      const out = e.map(walk);
      return out.every((v, i) => v === e[i]) ? e : out;
    }
    const k = e.exprKind;
    // data.latest(m, n) → __swamp_data(data, "latest", m, n) (see extensionFuncs).
    if (
      e.$typeName === "cel.expr.Expr" && k?.case === "callExpr" &&
      k.value.target?.exprKind?.case === "identExpr" &&
      k.value.target.exprKind.value.name === "data" &&
      ["latest", "version", "listVersions", "findBySpec", "findByTag"].includes(
        k.value.function,
      ) && k.value.args.length === (k.value.function === "version" ? 3 : 2)
    ) {
      return node({
        case: "callExpr",
        value: {
          $typeName: "cel.expr.Expr.Call",
          function: "__swamp_data",
          args: [
            node({ case: "identExpr", value: { $typeName: "cel.expr.Expr.Ident", name: "data" } }),
            node({
              case: "constExpr",
              value: {
                $typeName: "cel.expr.Constant",
                constantKind: { case: "stringValue", value: k.value.function },
              },
            }),
            ...k.value.args.map(walk),
          ],
        },
      });
    }
    if (
      e.$typeName === "cel.expr.Expr" && k?.case === "callExpr" && k.value.function === "bind" &&
      k.value.args.length === 3 && k.value.target?.exprKind?.case === "identExpr" &&
      k.value.target.exprKind.value.name === "cel" &&
      k.value.args[0].exprKind?.case === "identExpr"
    ) {
      const name = k.value.args[0].exprKind.value.name;
      return {
        ...e,
        exprKind: {
          case: "comprehensionExpr",
          value: {
            $typeName: "cel.expr.Expr.Comprehension",
            iterVar: "#unused",
            iterVar2: "",
            iterRange: node({
              case: "listExpr",
              value: { $typeName: "cel.expr.Expr.CreateList", elements: [], optionalIndices: [] },
            }),
            accuVar: name,
            accuInit: walk(k.value.args[1]),
            loopCondition: node({
              case: "constExpr",
              value: {
                $typeName: "cel.expr.Constant",
                constantKind: { case: "boolValue", value: false },
              },
            }),
            loopStep: node({
              case: "identExpr",
              value: { $typeName: "cel.expr.Expr.Ident", name },
            }),
            result: walk(k.value.args[2]),
          },
        },
      };
    }
    let changed = false;
    const out: any = {};
    for (const key of Object.keys(e)) {
      out[key] = walk(e[key]);
      if (out[key] !== e[key]) changed = true;
    }
    return changed ? out : e;
  };
  return walk(root);
}
