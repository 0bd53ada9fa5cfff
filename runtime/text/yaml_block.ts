// A fast reader for the plain block YAML that workflow files are written in:
// block mappings and sequences, one-line plain and quoted scalars, literal
// block scalars (`|`, `|-`), comments, and empty `[]`/`{}`. It builds
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
const COLON = 58;
const SINGLE = 39;
const DOUBLE = 34;
const BACKSLASH = 92;

// Characters a plain scalar may not start with (YAML 1.2 §7.3.3); `-`, `?`
// and `:` only when a space or the end follows.
const INDICATORS = new Set([..."#&*!|>'\"%@`,[]{}"].map((c) => c.charCodeAt(0)));

/**
 * Reads line by line over offsets into the one text, so that the only
 * strings made are the keys and values themselves: on a large file the
 * garbage of per-line strings costs more than the reading.
 */
class BlockReader {
  /** Offset where each line starts; a final entry one past the end. */
  private readonly starts: number[] = [0];
  /** Offsets of tab characters, in order (few or none). */
  private readonly tabs: number[] = [];
  /** Column a line's content starts at, when not its own indentation (`- key:`). */
  private readonly columns = new Map<number, number>();
  private at = 0;
  /** Set by `entry()`: the key, and the offset where its value starts. */
  private key = "";
  private valueAt = 0;
  /** Set by `quoted()`: the offset just past the closing quote. */
  private quotedEnd = 0;
  /** Short plain scalars already read, by length, with what they resolved to. */
  private readonly seen = new Map<number, { source: string; value: unknown }[]>();

  constructor(private readonly text: string) {
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1);
    this.starts.push(text.length + 1);
    for (let i = text.indexOf("\t"); i >= 0; i = text.indexOf("\t", i + 1)) this.tabs.push(i);
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
    return this.skipSpaces(start, this.end(line)) - start;
  }

  private skipSpaces(from: number, to: number): number {
    let i = from;
    while (i < to && this.text.charCodeAt(i) === SPACE) i++;
    return i;
  }

  /** Whether a tab lies in [from, to). */
  private hasTab(from: number, to: number): boolean {
    const tabs = this.tabs;
    if (tabs.length === 0) return false;
    let low = 0;
    let high = tabs.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (tabs[mid] < from) low = mid + 1;
      else high = mid;
    }
    return low < tabs.length && tabs[low] < to;
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

  /** The current line's content offsets from `column` on; tabs outside quotes are refused. */
  private contentFrom(column: number): number {
    const from = this.starts[this.at] + column;
    if (this.hasTab(from, this.end(this.at))) outside();
    return from;
  }

  private mapping(indent: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) outside();
    const out: Record<string, unknown> = {};
    while (true) {
      const next = this.nextIndent();
      if (next < indent) return out;
      if (next > indent) outside();
      const end = this.end(this.at);
      if (!this.entry(this.contentFrom(indent), end)) outside();
      const key = this.key;
      if (Object.hasOwn(out, key)) outside();
      this.at++;
      out[key] = this.value(this.valueAt, end, indent, depth);
    }
  }

  private sequence(indent: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) outside();
    const out: unknown[] = [];
    const t = this.text;
    while (true) {
      const next = this.nextIndent();
      if (next < indent) return out;
      if (next > indent) outside();
      const from = this.contentFrom(indent);
      const end = this.end(this.at);
      if (t.charCodeAt(from) !== DASH || (from + 1 < end && t.charCodeAt(from + 1) !== SPACE)) {
        return out; // a sibling key of the mapping this sequence is the value of
      }
      const rest = this.skipSpaces(from + 1, end);
      if (rest === end || t.charCodeAt(rest) === HASH) {
        this.at++;
        out.push(this.nested(indent, depth + 1, false));
      } else if (this.entry(rest, end)) {
        // `- key: value`: a mapping whose column is that of its first key.
        const column = rest - this.starts[this.at];
        this.columns.set(this.at, column);
        out.push(this.mapping(column, depth + 1));
      } else {
        this.at++;
        out.push(this.value(rest, end, indent, depth));
      }
    }
  }

  /**
   * The value after `key:` or `- ` on the same line, from `from` (past the
   * spaces) to `end`, or on the lines that follow.
   */
  private value(from: number, end: number, parentIndent: number, depth: number): unknown {
    const t = this.text;
    if (from === end || t.charCodeAt(from) === HASH) {
      return this.nested(parentIndent, depth + 1, true);
    }
    let value: unknown;
    const first = t.charCodeAt(from);
    if (first === 124 /* | */) return this.literalBlock(from, end, parentIndent);
    if (first === DOUBLE || first === SINGLE) {
      value = this.quoted(from, end);
      if (!this.isCommentAfter(this.quotedEnd, end)) outside();
    } else if (first === 91 /* [ */ || first === 123 /* { */) {
      const flow = t.slice(from, end).replace(/\s+#.*$/, "").trimEnd();
      if (flow === "[]") value = [];
      else if (flow === "{}") value = {};
      else outside();
    } else {
      value = this.plain(from, end);
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
  private literalBlock(from: number, end: number, parentIndent: number): string {
    const strip = this.text.charCodeAt(from + 1) === DASH;
    if (!this.isCommentAfter(from + (strip ? 2 : 1), end)) outside();
    const body: string[] = [];
    let blockIndent = -1;
    let line = this.at;
    for (; line < this.lineCount; line++) {
      const indent = this.indentOf(line);
      const start = this.starts[line];
      const lineEnd = this.end(line);
      if (start + indent === lineEnd) { // spaces only
        if (blockIndent >= 0 ? indent > blockIndent : indent > parentIndent + 1) outside();
        body.push("");
        continue;
      }
      if (blockIndent < 0) {
        if (indent <= parentIndent) break;
        blockIndent = indent;
      } else if (indent < blockIndent) break;
      body.push(this.text.slice(start + blockIndent, lineEnd));
    }
    if (blockIndent < 0) outside();
    // A block that runs to the end of a text without a final newline is chomped differently.
    if (line === this.lineCount && !this.text.endsWith("\n")) outside();
    let last = body.length;
    while (last > 0 && body[last - 1] === "") last--;
    this.at = line;
    const content = body.slice(0, last).join("\n");
    return strip ? content : content + "\n";
  }

  /** True when [from, end) is empty, spaces, or spaces and a comment. */
  private isCommentAfter(from: number, end: number): boolean {
    const i = this.skipSpaces(from, end);
    // A `#` is a comment only after a space.
    return i === end || (this.text.charCodeAt(i) === HASH && i > from);
  }

  /**
   * Whether [from, end) is `key: rest`; if so, sets `key` and `valueAt` (the
   * value's first non-space offset).
   */
  private entry(from: number, end: number): boolean {
    const t = this.text;
    let after: number;
    const first = t.charCodeAt(from);
    if (first === DOUBLE || first === SINGLE) {
      const key = this.quoted(from, end);
      if (t.charCodeAt(this.quotedEnd) !== COLON || this.quotedEnd >= end) return false;
      this.key = key;
      after = this.quotedEnd + 1;
    } else {
      // The key ends at the first `:` followed by a space or the end of the line.
      let colon = from;
      while (
        colon < end &&
        !(t.charCodeAt(colon) === COLON && (colon + 1 === end || t.charCodeAt(colon + 1) === SPACE))
      ) colon++;
      if (colon === end) return false;
      if (
        colon === from || t.charCodeAt(colon - 1) === SPACE || startsWithIndicator(t, from, end)
      ) {
        outside();
      }
      const resolved = this.resolved(from, colon);
      if (typeof resolved !== "string" || resolved.includes(" #")) outside();
      this.key = resolved;
      after = colon + 1;
    }
    if (after < end && t.charCodeAt(after) !== SPACE) return false;
    if (this.key === "__proto__" || this.key === "<<") outside();
    this.valueAt = this.skipSpaces(after, end);
    return true;
  }

  /** A one-line quoted scalar starting at `from`; sets `quotedEnd`. */
  private quoted(from: number, end: number): string {
    const t = this.text;
    if (t.charCodeAt(from) === SINGLE) {
      let i = from + 1;
      while (true) {
        const close = t.indexOf("'", i);
        if (close < 0 || close >= end) outside();
        if (close + 1 >= end || t.charCodeAt(close + 1) !== SINGLE) {
          this.quotedEnd = close + 1;
          return t.slice(from + 1, close).replaceAll("''", "'");
        }
        i = close + 2;
      }
    }
    let i = from + 1;
    let escaped = false;
    while (i < end && t.charCodeAt(i) !== DOUBLE) {
      const c = t.charCodeAt(i);
      if (c < SPACE) outside(); // JSON refuses them raw; YAML allows a tab
      if (c === BACKSLASH) {
        // Only the escapes YAML and JSON agree on; the rest go to js-yaml.
        if (i + 1 >= end || !'"\\/bfnrtu'.includes(t[i + 1])) outside();
        escaped = true;
        i++;
      }
      i++;
    }
    if (i >= end) outside();
    this.quotedEnd = i + 1;
    if (!escaped) return t.slice(from + 1, i);
    try {
      return JSON.parse(t.slice(from, i + 1));
    } catch {
      return outside();
    }
  }

  /** A one-line plain scalar in [from, end), resolved as js-yaml's CORE_SCHEMA does. */
  private plain(from: number, end: number): unknown {
    const t = this.text;
    if (startsWithIndicator(t, from, end)) outside();
    let stop = end;
    for (let i = from + 1; i < end; i++) {
      const c = t.charCodeAt(i);
      if (c === HASH && t.charCodeAt(i - 1) === SPACE) {
        stop = i;
        break;
      }
      // `: ` would make it a mapping: an error in this place.
      if (c === COLON && (i + 1 === end || t.charCodeAt(i + 1) === SPACE)) outside();
    }
    while (stop > from && t.charCodeAt(stop - 1) === SPACE) stop--;
    return this.resolved(from, stop);
  }

  /**
   * The plain scalar in [from, to), resolved. Keys and many values repeat
   * (`name`, `task`, `model_method`): a short one seen before is matched in
   * place and reused, so it is neither copied out nor resolved again, and
   * objects share their key strings.
   */
  private resolved(from: number, to: number): unknown {
    const length = to - from;
    if (length > 24) return resolvePlain(this.text.slice(from, to));
    let bucket = this.seen.get(length);
    if (bucket === undefined) this.seen.set(length, bucket = []);
    for (const entry of bucket) {
      if (this.text.startsWith(entry.source, from)) return entry.value;
    }
    const source = this.text.slice(from, to);
    const value = resolvePlain(source);
    if (bucket.length < 16) bucket.push({ source, value });
    return value;
  }
}

/** Whether the text at `from` starts with an indicator a plain scalar cannot start with. */
function startsWithIndicator(t: string, from: number, end: number): boolean {
  const c = t.charCodeAt(from);
  if (INDICATORS.has(c)) return true;
  if (c === DASH || c === 63 /* ? */ || c === COLON) {
    return from + 1 === end || t.charCodeAt(from + 1) === SPACE;
  }
  return false;
}
