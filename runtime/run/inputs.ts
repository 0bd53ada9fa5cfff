import { ErrorCode, SwampError } from "../errors/mod.ts";
import { EXPRESSION_VALUE_MAX_BYTES, EXPRESSION_VALUE_MAX_DEPTH } from "../ports/expressions.ts";

interface PropertySchema {
  type?: string;
  default?: unknown;
  enum?: unknown[];
  description?: string;
}

/**
 * Checks run inputs against a workflow's `inputs` schema (the JSON Schema
 * subset swamp workflows use: properties with type, default and enum, and
 * required), fills in defaults, and turns text given on the command line
 * into the declared type. Every problem is reported at once.
 */
export function resolveInputs(
  schema: {
    properties?: Record<string, unknown>;
    required?: string[];
    additionalProperties?: unknown;
  } | undefined,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const properties = (schema?.properties ?? {}) as Record<string, PropertySchema>;
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    const property = properties[name];
    if (!property) {
      if (schema?.properties && schema.additionalProperties !== true) {
        const known = Object.keys(properties);
        problems.push(
          `unknown input \`${name}\`${known.length ? ` (inputs: ${known.join(", ")})` : ""}`,
        );
        continue;
      }
      out[name] = value;
      continue;
    }
    const converted = coerce(value, property.type);
    if (converted === undefined) {
      problems.push(`input \`${name}\` must be ${property.type}, got ${JSON.stringify(value)}`);
      continue;
    }
    if (
      property.enum &&
      !property.enum.some((option) => JSON.stringify(option) === JSON.stringify(converted))
    ) {
      problems.push(
        `input \`${name}\` must be one of ${
          property.enum.map((o) => JSON.stringify(o)).join(", ")
        }`,
      );
      continue;
    }
    out[name] = converted;
  }
  for (const [name, property] of Object.entries(properties)) {
    if (!(name in out) && property.default !== undefined) out[name] = property.default;
  }
  for (const name of schema?.required ?? []) {
    if (!(name in out) && !problems.some((p) => p.includes(`\`${name}\``))) {
      problems.push(`missing required input \`${name}\``);
    }
  }
  if (problems.length > 0) {
    throw new SwampError(ErrorCode.INVALID_INPUT, problems.join("; "), {
      hint:
        "give inputs as --input name=value (JSON values are parsed: --input regions='[\"eu\"]') or --input-file",
    });
  }
  return out;
}

/** A value of the declared type, converting command-line text; undefined if it cannot be. */
function coerce(value: unknown, type: string | undefined): unknown {
  if (type === undefined) return value;
  const text = typeof value === "string" ? value : undefined;
  switch (type) {
    case "string":
      return typeof value === "string" ? value : undefined;
    case "number":
    case "integer": {
      const number = typeof value === "number"
        ? value
        : text !== undefined && text.trim() !== ""
        ? Number(text)
        : NaN;
      if (!Number.isFinite(number)) return undefined;
      return type === "integer" && !Number.isInteger(number) ? undefined : number;
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      return text === "true" ? true : text === "false" ? false : undefined;
    case "array":
    case "object": {
      const parsed = text !== undefined ? tryJson(text) : value;
      if (type === "array") return Array.isArray(parsed) ? parsed : undefined;
      return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
        ? parsed
        : undefined;
    }
    default:
      return value;
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Refuses inputs that expressions could not read (more JSON than the CEL
 * sandbox takes, or nested deeper): at submit, so that no run is created
 * whose every step reading `inputs` would fail.
 */
export function checkInputsReadable(inputs: Record<string, unknown>): void {
  const text = JSON.stringify(inputs);
  const hint = "pass large or deep data as a file the step reads (its path as an input), " +
    "not as the input's value";
  if (text.length > EXPRESSION_VALUE_MAX_BYTES) {
    throw new SwampError(
      ErrorCode.EXPRESSION_LIMIT_EXCEEDED,
      `the run's inputs are ${mib(text.length)} of JSON, more than the ` +
        `${
          mib(EXPRESSION_VALUE_MAX_BYTES)
        } expressions may read as \`inputs\`; the run was not created`,
      { hint },
    );
  }
  const depth = nesting(inputs, EXPRESSION_VALUE_MAX_DEPTH);
  if (depth > EXPRESSION_VALUE_MAX_DEPTH) {
    throw new SwampError(
      ErrorCode.EXPRESSION_LIMIT_EXCEEDED,
      `the run's inputs nest lists and maps more than ${EXPRESSION_VALUE_MAX_DEPTH} levels deep, ` +
        "more than expressions may read; the run was not created",
      { hint },
    );
  }
}

const mib = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;

/** How deep lists and maps nest in `value`, counting no further than one past `limit`. */
function nesting(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const inner of Array.isArray(v) ? v : Object.values(v)) stack.push([inner, depth + 1]);
  }
  return deepest;
}

/** A run's inputs: from `inputsJson`, or the Struct of a record written before it existed. */
export function runInputs(run: { inputsJson: string; inputs?: unknown }): Record<string, unknown> {
  if (run.inputsJson !== "") return JSON.parse(run.inputsJson) as Record<string, unknown>;
  return (run.inputs ?? {}) as Record<string, unknown>;
}
