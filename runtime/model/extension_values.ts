// Checking values against an extension's JSON Schemas. The schemas are
// turned back into zod schemas (zod 4's `z.fromJSONSchema`), so problems are
// zod issues and the same diagnostics as the built-in formats report them.
// zod's full build is loaded only when a repository has extension types.
import type * as zm from "zod/mini";
import type { JsonSchema } from "../ports/extension_schemas.ts";

export type SchemaIssue = zm.core.$ZodIssue;

/** A JSON Schema made ready to check values with, synchronously. */
export interface CompiledSchema {
  readonly json: JsonSchema;
  readonly zod: zm.core.$ZodType;
  /**
   * Problems of `value`. Values holding a `${{ }}` expression are not checked
   * (they are known only at run time); with `partial`, missing required keys
   * are not problems (the rest comes from elsewhere, e.g. a step's inputs).
   */
  check(value: unknown, options?: { partial?: boolean }): SchemaIssue[];
}

const compiled = new Map<string, CompiledSchema>();

/** Compiles a JSON Schema; one that zod cannot read accepts any value. */
export async function compileSchema(json: JsonSchema): Promise<CompiledSchema> {
  const key = JSON.stringify(json);
  const known = compiled.get(key);
  if (known) return known;
  const { z } = await import("zod");
  let schema: zm.core.$ZodType;
  try {
    schema = z.fromJSONSchema(closed(json) as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    schema = z.unknown();
  }
  const result: CompiledSchema = {
    json,
    zod: schema,
    check(value, options = {}) {
      const parsed = (schema as unknown as { safeParse(v: unknown): ParseResult }).safeParse(
        value,
      );
      if (parsed.success) return [];
      return parsed.error.issues
        .map((issue) => missing(issue, value))
        .filter((issue) => keep(issue, value, options.partial ?? false));
    },
  };
  compiled.set(key, result);
  return result;
}

/**
 * `z.object` drops keys it does not know, so its input-side JSON Schema
 * allows any: such a key would never reach the method, so validation treats
 * it as a mistake (a typo) and reports it. Objects that say what to do with
 * other keys (`z.looseObject`, `z.record`, `z.strictObject`) keep their word.
 */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = closed(value);
  if (out.type === "object" && out.properties && !("additionalProperties" in out)) {
    out.additionalProperties = false;
  }
  return out;
}

/** Checks `value` against `schema` in one call (see CompiledSchema.check). */
export async function checkAgainstSchema(
  schema: JsonSchema,
  value: unknown,
  options: { partial?: boolean } = {},
): Promise<SchemaIssue[]> {
  return (await compileSchema(schema)).check(value, options);
}

type ParseResult = { success: true } | { success: false; error: { issues: SchemaIssue[] } };

/** Whether a value is, or holds, a `${{ }}` expression. */
export function holdsExpression(value: unknown): boolean {
  if (typeof value === "string") return value.includes("${{");
  if (Array.isArray(value)) return value.some(holdsExpression);
  if (value !== null && typeof value === "object") {
    return Object.values(value).some(holdsExpression);
  }
  return false;
}

/** A key that is absent is reported as missing, whatever its schema (an enum says invalid_value). */
function missing(issue: SchemaIssue, data: unknown): SchemaIssue {
  if (issue.code === "invalid_type" || issue.code === "unrecognized_keys") return issue;
  if (issue.path.length === 0) return issue;
  let parent = data;
  for (const segment of issue.path.slice(0, -1)) {
    if (parent === null || typeof parent !== "object") return issue;
    parent = (parent as Record<PropertyKey, unknown>)[segment];
  }
  if (parent === null || typeof parent !== "object" || issue.path.at(-1)! in parent) return issue;
  return { code: "invalid_type", expected: "unknown", path: issue.path, message: "required" };
}

function keep(issue: SchemaIssue, data: unknown, partial: boolean): boolean {
  let current = data;
  for (const segment of issue.path) {
    if (typeof current === "string" && current.includes("${{")) return false;
    if (current === null || typeof current !== "object") {
      current = undefined;
      break;
    }
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  if (current === undefined && issue.code === "invalid_type") return !partial;
  if (issue.code === "unrecognized_keys") return true;
  return !holdsExpression(current);
}
