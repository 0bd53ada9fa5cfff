// Expressions that only select a value (`inputs.items`, `steps.build.outputs`)
// are answered on the host, from the variables as given: passing a large
// value through a template then costs no copy into the sandbox (issue 18).
// Only when the answer is certain to be the library's: the path exists, and
// the value is plain JSON that CEL's conversion in and out leaves as it is.
// Anything else goes to the sandbox, errors included, so their messages stay
// the library's.

const SELECTOR = /^\s*([A-Za-z_][A-Za-z0-9_]*)((?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*$/;

/** Words CEL reserves: never a variable, so never selected here. */
const RESERVED = new Set([
  "true",
  "false",
  "null",
  "in",
  "as",
  "break",
  "const",
  "continue",
  "else",
  "for",
  "function",
  "if",
  "import",
  "let",
  "loop",
  "package",
  "namespace",
  "return",
  "var",
  "void",
  "while",
]);

/** The value `source` selects from `variables`, when it can be answered here; else undefined. */
export function selectOnHost(
  source: string,
  variables: Record<string, unknown>,
): { value: unknown } | undefined {
  const match = SELECTOR.exec(source);
  if (!match) return undefined;
  const path = [match[1], ...match[2].split(".").map((p) => p.trim()).filter((p) => p !== "")];
  if (path.some((p) => RESERVED.has(p)) || !Object.hasOwn(variables, path[0])) return undefined;
  // A variable with a dot in its name changes what `a.b` means (the library reads it first).
  for (const name of Object.keys(variables)) if (name.includes(".")) return undefined;
  let value = variables[path[0]];
  for (const field of path.slice(1)) {
    if (!isPlainObject(value) || !Object.hasOwn(value, field)) return undefined;
    value = value[field];
  }
  return plainJson(value) ? { value } : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True when `value` is JSON that comes back from CEL unchanged: null,
 * booleans, strings, finite numbers (integral ones within the safe range,
 * since CEL makes them ints and ints beyond it are an error on the way out),
 * and lists and maps of those, nested no deeper than the sandbox takes.
 */
function plainJson(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v === "string" || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) return false;
      continue;
    }
    if (depth >= 256) return false;
    if (Array.isArray(v)) {
      for (const inner of v) stack.push([inner, depth + 1]);
    } else if (isPlainObject(v)) {
      for (const inner of Object.values(v)) stack.push([inner, depth + 1]);
    } else return false; // undefined, bigint, functions, class instances, …
  }
  return true;
}

/**
 * The variables some expression of `sources` may read: those whose name (its
 * first part, for a dotted one) appears as a word in the text. CEL reads a
 * variable only by naming it, so one whose name appears nowhere is not read.
 */
export function variablesNamedIn(
  sources: string[],
  variables: Record<string, unknown>,
): Record<string, unknown> {
  const text = sources.join("\n");
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    const root = name.split(".")[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (new RegExp(`(^|[^A-Za-z0-9_])${root}($|[^A-Za-z0-9_])`).test(text)) out[name] = value;
  }
  return out;
}
