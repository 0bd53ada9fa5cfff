import type * as z from "zod/mini";
import { didYouMean } from "../text/suggest.ts";
import type { DiagnosticSink, PathSegment } from "./source.ts";

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

/**
 * Reports every issue of a failed zod parse as a positioned diagnostic.
 * `schema` and `data` may be a part of the file found at `at` (a block
 * checked by its own schema): positions and messages use the whole path.
 */
export function reportIssues(
  sink: DiagnosticSink,
  schema: AnySchema,
  data: unknown,
  issues: readonly Issue[],
  at: readonly PathSegment[] = [],
): void {
  for (const issue of issues) {
    const inner = issue.path.filter((p): p is PathSegment => typeof p !== "symbol");
    const path = [...at, ...inner];
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = knownKeysAt(schema, data, inner) ?? [];
        for (const key of issue.keys) {
          const suggestion = didYouMean(key, known);
          sink.add({
            rule: "unknown-key",
            message: `unknown key \`${key}\`${where(path)}`,
            hint: suggestion || (known.length ? `valid keys: ${known.join(", ")}` : ""),
            path,
            key,
          });
        }
        break;
      }
      case "invalid_union": {
        const options = (issue as { options?: unknown[] }).options;
        const discriminator = (issue as { discriminator?: string }).discriminator;
        if (options && discriminator) {
          const given = valueAt(data, inner);
          const names = options.map(String);
          const missing = given === undefined;
          sink.add({
            rule: missing ? "missing-key" : "invalid-value",
            message: missing
              ? `missing \`${discriminator}\`${where(path.slice(0, -1))}`
              : `\`${String(given)}\` is not a valid ${discriminator}`,
            hint: (missing ? "" : didYouMean(String(given), names)) ||
              `expected one of: ${names.join(", ")}`,
            path,
          });
        } else {
          sink.add({ rule: "invalid-value", message: `invalid value${where(path)}`, path });
        }
        break;
      }
      case "invalid_type": {
        const given = valueAt(data, inner);
        if (given === undefined) {
          const key = path.at(-1);
          sink.add({
            rule: "missing-key",
            message: `missing required key \`${String(key)}\`${where(path.slice(0, -1))}`,
            path: path.slice(0, -1),
          });
        } else {
          sink.add({
            rule: "wrong-type",
            message: `\`${lastName(path)}\` must be ${article(issue.expected)}, not ${
              describe(given)
            }`,
            path,
          });
        }
        break;
      }
      case "invalid_value":
        sink.add({
          rule: "invalid-value",
          message: `\`${String(valueAt(data, inner))}\` is not allowed for \`${lastName(path)}\``,
          hint: didYouMean(String(valueAt(data, inner)), issue.values.map(String)) ||
            `expected one of: ${issue.values.map(String).join(", ")}`,
          path,
        });
        break;
      default:
        sink.add({
          rule: "invalid-value",
          message: `\`${lastName(path)}\` ${issue.message}`,
          path,
        });
    }
  }
}

function where(path: readonly PathSegment[]): string {
  return path.length === 0 ? " at the top level" : ` in \`${pathText(path)}\``;
}

function pathText(path: readonly PathSegment[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "");
}

function lastName(path: readonly PathSegment[]): string {
  return path.length === 0 ? "document" : pathText(path);
}

function article(expected: string): string {
  const noun = expected === "record" ? "map" : expected === "array" ? "list" : expected;
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `${typeof value} \`${String(value)}\``;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[segment as string];
  }
  return current;
}

/**
 * The keys an object schema accepts at `path`, found by walking the schema
 * alongside the data (unions are resolved by their discriminator).
 */
export function knownKeysAt(
  schema: AnySchema,
  data: unknown,
  path: readonly PathSegment[],
): string[] | undefined {
  let current: AnySchema | undefined = unwrap(schema, data);
  let value = data;
  for (const segment of path) {
    if (!current) return undefined;
    const def = current._zod.def as unknown as Record<string, unknown>;
    value = (value as Record<string, unknown> | undefined)?.[segment as string];
    if (def.type === "object") {
      current = (def.shape as Record<string, AnySchema>)[segment as string];
    } else if (def.type === "array") {
      current = def.element as AnySchema;
    } else if (def.type === "record") {
      current = def.valueType as AnySchema;
    } else {
      return undefined;
    }
    current = current && unwrap(current, value);
  }
  const def = current?._zod.def as unknown as Record<string, unknown> | undefined;
  return def?.type === "object" ? Object.keys(def.shape as object) : undefined;
}

function unwrap(schema: AnySchema, value: unknown): AnySchema | undefined {
  let current: AnySchema | undefined = schema;
  for (let depth = 0; current && depth < 16; depth++) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    if (def.type === "optional" || def.type === "default" || def.type === "nullable") {
      current = def.innerType as AnySchema;
    } else if (def.type === "union") {
      current = pickOption(def, value);
    } else {
      return current;
    }
  }
  return current;
}

function pickOption(def: Record<string, unknown>, value: unknown): AnySchema | undefined {
  const options = def.options as AnySchema[];
  const discriminator = def.discriminator as string | undefined;
  const objectOptions = options.filter((o) => (o._zod.def as { type: string }).type === "object");
  if (!discriminator) return objectOptions.length === 1 ? objectOptions[0] : undefined;
  const tag = (value as Record<string, unknown> | undefined)?.[discriminator];
  return objectOptions.find((option) => {
    const values = (option._zod as { propValues?: Record<string, Set<unknown>> }).propValues;
    return values?.[discriminator]?.has(tag);
  });
}
