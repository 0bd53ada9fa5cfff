// Finding swamp's data.* calls in CEL source text, with each argument's own
// text, so the host can compute the arguments and read those items before
// the expression is evaluated (docs/reference/data.md#in-expressions).
// A scanner, not a parser: it knows CEL's strings (quoted, raw, triple) and
// brackets, which is all it needs to cut out a call's arguments.

export const DATA_FUNCTIONS = ["latest", "version", "listVersions", "findBySpec", "findByTag"];

export interface DataCall {
  fn: string;
  /** The text of each argument, trimmed. */
  args: string[];
}

const callStart = new RegExp(
  `(^|[^A-Za-z0-9_.])data\\s*\\.\\s*(${DATA_FUNCTIONS.join("|")})\\s*\\(`,
  "g",
);

/** The end of the string literal starting at `i` (the index after its closing quote). */
function skipString(text: string, i: number): number {
  let j = i;
  let raw = false;
  if (text[j] === "r" || text[j] === "R") {
    raw = true;
    j++;
  } else if ((text[j] === "b" || text[j] === "B") && (text[j + 1] === "r" || text[j + 1] === "R")) {
    raw = true;
    j += 2;
  } else if (text[j] === "b" || text[j] === "B") j++;
  const quote = text[j];
  const triple = text.slice(j, j + 3) === quote.repeat(3);
  const close = triple ? quote.repeat(3) : quote;
  j += close.length;
  while (j < text.length) {
    if (!raw && text[j] === "\\") {
      j += 2;
      continue;
    }
    if (text.startsWith(close, j)) return j + close.length;
    j++;
  }
  return text.length;
}

const isStringStart = (text: string, i: number): boolean => {
  const c = text[i];
  if (c === '"' || c === "'") return true;
  const prev = i > 0 ? text[i - 1] : "";
  if (/[A-Za-z0-9_]/.test(prev)) return false;
  if ((c === "r" || c === "R" || c === "b" || c === "B") && /["']/.test(text[i + 1] ?? "")) {
    return true;
  }
  return (c === "b" || c === "B") && /[rR]/.test(text[i + 1] ?? "") &&
    /["']/.test(text[i + 2] ?? "");
};

/** The arguments of the call whose "(" is at `open`: their texts and the index after ")". */
function argumentsAt(text: string, open: number): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < text.length;) {
    if (isStringStart(text, i)) {
      i = skipString(text, i);
      continue;
    }
    const c = text[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" && depth === 0) {
      const last = text.slice(start, i).trim();
      if (last !== "" || args.length > 0) args.push(last);
      return { args, end: i + 1 };
    } else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  return undefined;
}

/** Every data.* call in `source`, outermost first, each with its arguments' texts. */
export function dataCalls(source: string): DataCall[] {
  const calls: DataCall[] = [];
  // Blank out strings first, so a `data.latest(` inside a string literal is not a call.
  let masked = "";
  for (let i = 0; i < source.length;) {
    if (isStringStart(source, i)) {
      const end = skipString(source, i);
      masked += " ".repeat(end - i);
      i = end;
    } else masked += source[i++];
  }
  for (const match of masked.matchAll(callStart)) {
    const open = match.index! + match[0].length - 1;
    const found = argumentsAt(source, open);
    if (found) calls.push({ fn: match[2], args: found.args });
  }
  return calls;
}

/** The snapshot key of a call with these argument values (the sandbox builds the same one). */
export function dataCallKey(fn: string, values: unknown[]): string {
  return [fn, ...values.map((v) => String(v))].join("\u0000");
}
