// The cel-spec conformance cases shipped in @bufbuild/cel-spec, reduced to the
// ones a sandbox without protobuf message types can run: the core suites
// (no extension libraries), no container, no message or enum values, and
// evaluated cases only (not check-only ones). Values are in the protobuf
// `cel.expr.Value` JSON form the sandbox's "typed" wire mode speaks.

// deno-lint-ignore-file no-explicit-any
import { tests } from "../node_modules/@bufbuild/cel-spec/dist/esm/testdata/conformance.js";

export interface ConformanceCase {
  /** suite/section/name: unique, and the key of the skip list. */
  id: string;
  expr: string;
  bindings: Record<string, unknown>;
  /** The expected value, or undefined when an error is expected. */
  value?: unknown;
}

/** Suites for extension libraries and protobuf messages; not core CEL without messages. */
const EXCLUDED_SUITES = new Set([
  "bindings_ext",
  "block_ext",
  "encoders_ext",
  "math_ext",
  "string_ext",
  "optionals",
  "macros2", // two-variable comprehensions: an extension
  "proto2",
  "proto2_ext",
  "proto3",
  "wrappers",
  "enums",
  "dynamic", // protobuf well-known types
  "type_deductions", // checker output types, not evaluation
  "unknowns",
]);

const MESSAGE_TEXT = /TestAllTypes|NestedTestAllTypes|google\.protobuf|cel\.expr\.|\bAny\b/;

function needsMessages(t: any): boolean {
  const text = JSON.stringify([t.value, t.bindings, t.typedResult]);
  return MESSAGE_TEXT.test(t.expr) || /objectValue|enumValue/.test(text);
}

/**
 * All applicable core cases, in suite order; with `suites`, the cases of
 * those suites only (an extension's, to count how much of it works).
 */
export function conformanceCases(suites?: readonly string[]): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const suite of (tests as any).suites) {
    if (suites ? !suites.includes(suite.name) : EXCLUDED_SUITES.has(suite.name)) continue;
    for (const section of suite.suites ?? []) {
      for (const test of section.tests ?? []) {
        const t = test.original;
        if (t.checkOnly || t.container || needsMessages(t)) continue;
        const value = t.value ?? t.typedResult?.result;
        if (value === undefined && !t.evalError) continue; // nothing to compare
        const bindings: Record<string, unknown> = {};
        for (const [name, b] of Object.entries<any>(t.bindings ?? {})) bindings[name] = b.value;
        out.push({ id: `${suite.name}/${section.name}/${t.name}`, expr: t.expr, bindings, value });
      }
    }
  }
  return out;
}

/** Equality of two cel.expr.Value JSON values, the way CEL results compare. */
export function sameValue(a: any, b: any): boolean {
  const [ka] = Object.keys(a ?? {});
  const [kb] = Object.keys(b ?? {});
  if (ka !== kb) return false;
  const x = a[ka];
  const y = b[kb];
  switch (ka) {
    case "doubleValue": {
      const nx = Number(x);
      const ny = Number(y);
      return nx === ny || (Number.isNaN(nx) && Number.isNaN(ny));
    }
    case "int64Value":
    case "uint64Value":
      return BigInt(x) === BigInt(y);
    case "bytesValue":
      return normaliseBase64(x) === normaliseBase64(y);
    case "nullValue":
      return true;
    case "listValue": {
      const xs = x.values ?? [];
      const ys = y.values ?? [];
      return xs.length === ys.length && xs.every((v: any, i: number) => sameValue(v, ys[i]));
    }
    case "mapValue": {
      const xs = x.entries ?? [];
      const ys = y.entries ?? [];
      return xs.length === ys.length &&
        xs.every((e: any) =>
          ys.some((f: any) => sameValue(e.key, f.key) && sameValue(e.value, f.value))
        );
    }
    default:
      return x === y;
  }
}

function normaliseBase64(s: string): string {
  return s.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
}
