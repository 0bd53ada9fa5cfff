// Types of the sandbox program and the value helpers its adapters share.
// `valueHelpers` is shipped as source text into QuickJS like the rest of the
// program, so it must use nothing but its parameter.

// deno-lint-ignore-file no-explicit-any

/** Which bundled CEL library the program adapts to. */
export type CelLibraryName = "bufbuild" | "marcbachmann";

/**
 * How values cross: "json" is the port's JSON-compatible form; "typed" is the
 * protobuf `cel.expr.Value` JSON form the cel-spec conformance cases use
 * (`{int64Value: "1"}`, `{listValue: {values: []}}`, …), which keeps int,
 * uint, double and bytes apart.
 */
export type WireMode = "json" | "typed";

/**
 * A compiled expression: the library's program, and the compiled fast path
 * (sandbox_compiler.ts) when there is one, which returns undefined whenever
 * the library must decide.
 */
export interface Program {
  run(vars: any): any;
  fast?: (vars: any) => any;
}

/** Makes the fast-path compiler for a library environment (bufbuild only). */
export type FastCompiler = (env: any) => { compile(expr: any): ((vars: any) => any) | undefined };

/** What the runner needs from a CEL library. */
export interface Adapter {
  compile(source: string): Program;
  toWire(value: any, mode: WireMode): unknown;
  fromWire(value: any, mode: WireMode): any;
  /** Free variable names, and the fields selected from each by a literal name. */
  references(source: string): { names: string[]; fields: Record<string, string[]> };
}

export interface WireResult {
  ok: boolean;
  value?: unknown;
  error?: string;
  limit?: boolean;
}

/** Value helpers shared by the adapters; shipped as source like the rest. */
export function valueHelpers(g: any) {
  function safeNumber(n: bigint, what: string): number {
    if (n > 9007199254740991n || n < -9007199254740991n) {
      throw new Error(`${what} ${n} is outside the safe integer range of JSON numbers`);
    }
    return Number(n);
  }
  function base64(bytes: Uint8Array): string {
    const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += abc[n >> 18] + abc[(n >> 12) & 63] +
        (i + 1 < bytes.length ? abc[(n >> 6) & 63] : "=") +
        (i + 2 < bytes.length ? abc[n & 63] : "=");
    }
    return out;
  }
  function unbase64(text: string): Uint8Array {
    const bin = g.atob ? g.atob(text) : decodeBase64(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function decodeBase64(text: string): string {
    const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const clean = text.replace(/[^A-Za-z0-9+/]/g, "");
    let out = "";
    for (let i = 0; i < clean.length; i += 4) {
      const n = (abc.indexOf(clean[i]) << 18) | (abc.indexOf(clean[i + 1]) << 12) |
        ((abc.indexOf(clean[i + 2]) & 63) << 6) | (abc.indexOf(clean[i + 3]) & 63);
      out += String.fromCharCode(n >> 16);
      if (i + 2 < clean.length) out += String.fromCharCode((n >> 8) & 255);
      if (i + 3 < clean.length) out += String.fromCharCode(n & 255);
    }
    return out;
  }
  function jsonDouble(d: number): number {
    if (!Number.isFinite(d)) throw new Error(`double ${d} cannot be represented in JSON`);
    return d;
  }
  function typedDouble(d: number): unknown {
    return Number.isFinite(d) ? d : String(d);
  }
  function parseTypedDouble(d: unknown): number {
    return typeof d === "string" ? Number(d) : d as number;
  }
  /** RFC 3339 with as many fractional digits as needed (CEL's string(timestamp)). */
  function rfc3339(seconds: bigint, nanos: number): string {
    const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
    if (nanos === 0) return iso + "Z";
    return iso + "." + String(nanos).padStart(9, "0").replace(/0+$/, "") + "Z";
  }
  /** CEL's string(duration): seconds with a fraction, e.g. "1.5s". */
  function durationText(seconds: bigint, nanos: number): string {
    if (nanos === 0) return `${seconds}s`;
    const negative = seconds < 0n || nanos < 0;
    const s = seconds < 0n ? -seconds : seconds;
    const n = nanos < 0 ? -nanos : nanos;
    return `${negative ? "-" : ""}${s}.${String(n).padStart(9, "0").replace(/0+$/, "")}s`;
  }
  /** A `cel.expr.Value` JSON input as a library value; `uint` makes the library's unsigned int. */
  function fromTyped(v: any, uint: (n: bigint) => any): any {
    if ("int64Value" in v) return BigInt(v.int64Value);
    if ("uint64Value" in v) return uint(BigInt(v.uint64Value));
    if ("doubleValue" in v) return parseTypedDouble(v.doubleValue);
    if ("stringValue" in v) return v.stringValue;
    if ("boolValue" in v) return v.boolValue;
    if ("nullValue" in v) return null;
    if ("bytesValue" in v) return unbase64(v.bytesValue);
    if ("listValue" in v) return (v.listValue.values ?? []).map((x: any) => fromTyped(x, uint));
    if ("mapValue" in v) {
      const m = new Map();
      for (const e of v.mapValue.entries ?? []) {
        m.set(fromTyped(e.key, uint), fromTyped(e.value, uint));
      }
      return m;
    }
    throw new Error(`unsupported typed input ${JSON.stringify(v)}`);
  }

  return {
    safeNumber,
    base64,
    unbase64,
    fromTyped,
    jsonDouble,
    typedDouble,
    parseTypedDouble,
    rfc3339,
    durationText,
  };
}

export type ValueHelpers = ReturnType<typeof valueHelpers>;
