// A fast reader for the plain block YAML that workflow files are written in:
// block mappings and sequences, one-line plain and quoted scalars, literal
// block scalars (`|`, `|-`, `|+`), comments, and empty `[]`/`{}`. It builds
// data only, no positions. Anything outside that subset, or anything it is not
// sure of, makes it answer `undefined`, and the caller parses with js-yaml
// instead; so it never has to report an error, and for every text it accepts
// it must return exactly what js-yaml's CORE_SCHEMA load returns (the
// differential tests in yaml_block_test.ts hold it to that).
// Why it exists: docs/design/0008-block-yaml-fast-path.md.
import { CORE_SCHEMA, NOT_RESOLVED, type ScalarTagDefinition } from "js-yaml";

/** Bail-out signal: the text is outside the subset. Never escapes this module. */
const OUTSIDE = Symbol("outside the block subset");

// Plain scalars resolve exactly as js-yaml resolves them: with the schema's
// own implicit tags, tried in schema order, else its default (string) tag.
// Most scalars start with a character no implicit tag claims, and are text.
const implicitTags = CORE_SCHEMA.tags.filter((tag): tag is ScalarTagDefinition =>
  tag.nodeKind === "scalar" && tag.implicit
);
const claimedFirstChars = new Set(implicitTags.flatMap((tag) => tag.implicitFirstChars ?? []));
const anyFirstChar = implicitTags.some((tag) => !tag.implicitFirstChars);
const textTag = CORE_SCHEMA.defaultScalarTag;

function resolvePlain(source: string): unknown {
  const first = source.charAt(0);
  if (anyFirstChar || claimedFirstChars.has(first)) {
    for (const tag of implicitTags) {
      if (tag.implicitFirstChars && !tag.implicitFirstChars.includes(first)) continue;
      const value = tag.resolve(source, false, tag.tagName);
      if (value !== NOT_RESOLVED) return value;
    }
  }
  return textTag.resolve(source, false, textTag.tagName);
}

// Characters js-yaml refuses anywhere in a stream, and lone surrogates.
const NON_PRINTABLE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u2028\u2029\uFEFF\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// A plain scalar may not start with an indicator (YAML 1.2 §7.3.3).
const INDICATOR_START = /^(?:[,\[\]{}#&*!|>'"%@`]|[-?:](?:\s|$))/;
const MAX_DEPTH = 32;

/** The document's data, or undefined when the text is not in the subset. */
export function readBlockYaml(text: string): unknown {
  if (text.includes("\r") || NON_PRINTABLE.test(text)) return undefined;
  try {
    return new BlockReader(text).document();
  } catch (e) {
    if (e === OUTSIDE) return undefined;
    throw e;
  }
}

function outside(): never {
  throw OUTSIDE;
}

const SPACE = 32;
const DASH = 45;
const HASH = 35;
const TAB = "\t";

/**
 * Reads line by line over offsets into the one text, so that the only
 * strings made are the keys and values themselves.
 */
class BlockReader {
  /** Offset where each line starts; a final entry one past the end. */
  private readonly starts: number[] = [0];
  /** Column a line's content starts at, when not its own indentation (`- key:`). */
  private readonly columns = new Map<number, number>();
  private at = 0;

  constructor(private readonly text: string) {
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1);
    this.starts.push(text.length + 1);
  }

  private get lineCount(): number {
    return this.starts.length - 1;
  }

  /** Offset just past a line's last character (its newline excluded). */
  private end(line: number): number {
    return this.starts[line + 1] - 1;
  }

  private indentOf(line: number): number {
    const column = this.columns.get(line);
    if (column !== undefined) return column;
    const start = this.starts[line];
    const end = this.end(line);
    let i = start;
    while (i < end && this.text.charCodeAt(i) === SPACE) i++;
    return i - start;
  }

  document(): unknown {
    if (this.nextIndent() !== 0) outside();
    const root = this.mapping(0, 1);
    if (this.nextIndent() >= 0) outside();
    return root;
  }

  /** Indent of the next content line, past blank and comment-only lines; -1 at the end. */
  private nextIndent(): number {
    while (this.at < this.lineCount) {
      const indent = this.indentOf(this.at);
      const at = this.starts[this.at] + indent;
      // Tabs in a comment are text; in indentation they make it a content line.
      if (at < this.end(this.at) && this.text.charCodeAt(at) !== HASH) return indent;
      this.at++;
    }
    return -1;
  }

  /** The current line's content from `column` on, refusing tabs outside quotes. */
  private content(column: number): string {
    const line = this.text.slice(this.starts[this.at] + column, this.end(this.at));
    if (line.includes(TAB)) outside();
    return line;
  }

  private mapping(indent: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) outside();
    const out: Record<string, unknown> = {};
    while (true) {
      const next = this.nextIndent();
      if (next < indent) return out;
      if (next > indent) outside();
      const entry = splitEntry(this.content(indent));
      if (entry === undefined) outside();
      const [key, rest] = entry;
      if (Object.hasOwn(out, key)) outside();
      this.at++;
      out[key] = this.value(rest, indent, depth);
    }
  }

  private sequence(indent: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) outside();
    const out: unknown[] = [];
    while (true) {
      const next = this.nextIndent();
      if (next < indent) return out;
      if (next > indent) outside();
      const line = this.content(indent);
      if (line.charCodeAt(0) !== DASH || (line.length > 1 && line.charCodeAt(1) !== SPACE)) {
        return out; // a sibling key of the mapping this sequence is the value of
      }
      const rest = line.slice(1).trimStart();
      if (rest === "" || rest.charCodeAt(0) === HASH) {
        this.at++;
        out.push(this.nested(indent, depth + 1, false));
      } else if (splitEntry(rest) !== undefined) {
        // `- key: value`: a mapping whose column is that of its first key.
        this.columns.set(this.at, indent + line.length - rest.length);
        out.push(this.mapping(indent + line.length - rest.length, depth + 1));
      } else {
        this.at++;
        out.push(this.value(rest, indent, depth));
      }
    }
  }

  /** The value after `key:` or `- ` on the same line; `rest` is trimmed at the start. */
  private value(rest: string, parentIndent: number, depth: number): unknown {
    if (rest === "" || rest.charCodeAt(0) === HASH) {
      return this.nested(parentIndent, depth + 1, true);
    }
    let value: unknown;
    const first = rest[0];
    if (first === "|") return this.literalBlock(rest, parentIndent);
    if (first === '"' || first === "'") {
      const [text, end] = quoted(rest, 0);
      if (!isCommentAfter(rest, end)) outside();
      value = text;
    } else if (first === "[" || first === "{") {
      const flow = rest.replace(/\s+#.*$/, "").trimEnd();
      if (flow === "[]") value = [];
      else if (flow === "{}") value = {};
      else outside();
    } else {
      value = plain(rest);
    }
    // A more indented line after a one-line scalar would continue it.
    if (this.nextIndent() > parentIndent) outside();
    return value;
  }

  /**
   * A block node on the following lines, or null when there is none. A
   * mapping's value may be a sequence at the key's own column (`compact`).
   */
  private nested(parentIndent: number, depth: number, compact: boolean): unknown {
    const next = this.nextIndent();
    if (next < 0 || next < parentIndent) return null;
    const at = this.starts[this.at] + next;
    const isItem = this.text.charCodeAt(at) === DASH &&
      (at + 1 === this.end(this.at) || this.text.charCodeAt(at + 1) === SPACE);
    if (next === parentIndent) return compact && isItem ? this.sequence(next, depth) : null;
    return isItem ? this.sequence(next, depth) : this.mapping(next, depth);
  }

  /** `|` or `|-` and the more indented lines after it (`|+` and indicators go to js-yaml). */
  private literalBlock(header: string, parentIndent: number): string {
    const chomp = header[1] === "-" ? "-" : "";
    if (!isCommentAfter(header, 1 + chomp.length)) outside();
    const body: string[] = [];
    let blockIndent = -1;
    let line = this.at;
    for (; line < this.lineCount; line++) {
      const indent = this.indentOf(line);
      const start = this.starts[line];
      const end = this.end(line);
      if (start + indent === end) { // spaces only
        if (blockIndent >= 0 ? indent > blockIndent : indent > parentIndent + 1) outside();
        body.push("");
        continue;
      }
      if (blockIndent < 0) {
        if (indent <= parentIndent) break;
        blockIndent = indent;
      } else if (indent < blockIndent) break;
      body.push(this.text.slice(start + blockIndent, end));
    }
    if (blockIndent < 0) outside();
    // A block that runs to the end of a text without a final newline is chomped differently.
    if (line === this.lineCount && !this.text.endsWith("\n")) outside();
    let last = body.length;
    while (last > 0 && body[last - 1] === "") last--;
    this.at = line;
    const content = body.slice(0, last).join("\n");
    return chomp === "-" ? content : content + "\n";
  }
}

/** True when `text` from `from` on is empty, spaces, or spaces and a comment. */
function isCommentAfter(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && text[i] === " ") i++;
  // A `#` is a comment only after a space.
  return i === text.length || (text[i] === "#" && i > from);
}

/** `key: rest`: the key's text and the trimmed rest, or undefined when `line` is no entry. */
function splitEntry(line: string): [string, string] | undefined {
  let key: string;
  let after: number;
  const first = line[0];
  if (first === '"' || first === "'") {
    const [text, end] = quoted(line, 0);
    if (line[end] !== ":") return undefined;
    key = text;
    after = end + 1;
  } else {
    const colon = line.indexOf(":");
    if (colon < 0) return undefined;
    let at = colon;
    // The key ends at the first `:` followed by a space or the end of the line.
    while (at >= 0 && at + 1 < line.length && line[at + 1] !== " ") at = line.indexOf(":", at + 1);
    if (at < 0) return undefined;
    const source = line.slice(0, at);
    if (
      source === "" || source.endsWith(" ") || source.includes(" #") || INDICATOR_START.test(source)
    ) {
      outside();
    }
    const resolved = resolvePlain(source);
    if (typeof resolved !== "string") outside();
    key = resolved;
    after = at + 1;
  }
  if (after < line.length && line[after] !== " ") return undefined;
  if (key === "__proto__" || key === "<<") outside();
  return [key, line.slice(after).trimStart()];
}

/** A one-line quoted scalar starting at `start`: its value and the index after it. */
function quoted(line: string, start: number): [string, number] {
  const q = line[start];
  if (q === "'") {
    let i = start + 1;
    while (true) {
      const close = line.indexOf("'", i);
      if (close < 0) outside();
      if (line[close + 1] !== "'") {
        return [line.slice(start + 1, close).replaceAll("''", "'"), close + 1];
      }
      i = close + 2;
    }
  }
  let i = start + 1;
  while (i < line.length && line[i] !== '"') {
    if (line[i] === "\\") {
      // Only the escapes YAML and JSON agree on; the rest go to js-yaml.
      if (!'"\\/bfnrtu'.includes(line[i + 1] ?? "")) outside();
      i++;
    }
    i++;
  }
  if (i >= line.length) outside();
  const inner = line.slice(start + 1, i);
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1F]/.test(inner)) outside(); // JSON refuses them raw; YAML allows a tab
  try {
    return [JSON.parse(`"${inner}"`), i + 1];
  } catch {
    return outside();
  }
}

/** A one-line plain scalar, resolved as js-yaml's CORE_SCHEMA does. */
function plain(rest: string): unknown {
  const hash = rest.indexOf(" #");
  const source = (hash < 0 ? rest : rest.slice(0, hash)).trimEnd();
  if (
    INDICATOR_START.test(source) || source.includes(": ") || source.endsWith(":") ||
    source.includes("\t")
  ) {
    outside();
  }
  return resolvePlain(source);
}
