/** What a masked secret is replaced with. */
export const maskText = "***";

/**
 * Values shorter than this are not masked: replacing every "a" or "10" in a
 * log would destroy it and protect nothing (such a value is guessable anyway).
 */
export const minMaskedLength = 4;

/**
 * The secrets one run has resolved, and the replacement of each occurrence of
 * them by `***` in any text the run writes. Log lines reach the store as whole
 * lines, so a secret without a line break in it is never split across two
 * writes. A multi-line secret is masked as a whole and also line by line, so a
 * line of it seen on its own is masked too.
 */
export class SecretMask {
  private readonly values = new Set<string>();
  /** Longest first, so a secret that contains another is replaced whole. */
  private ordered: string[] = [];

  /** Adds a value to mask; values shorter than {@link minMaskedLength} characters are ignored. */
  add(value: string): void {
    const parts = [value, ...value.split(/\r?\n/)];
    let changed = false;
    for (const part of parts) {
      if (part.length < minMaskedLength || this.values.has(part)) continue;
      this.values.add(part);
      changed = true;
    }
    if (changed) this.ordered = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** How many values are masked. */
  get size(): number {
    return this.values.size;
  }

  /** The text with every occurrence of every added value replaced by `***`. */
  apply(text: string): string {
    if (this.ordered.length === 0 || text.length < minMaskedLength) return text;
    let out = text;
    for (const value of this.ordered) {
      if (out.includes(value)) out = out.split(value).join(maskText);
    }
    return out;
  }

  /**
   * Two consecutive pieces of one line: a secret that starts at the end of
   * `first` and ends at the start of `second` is replaced by `***` at the end
   * of `first` and cut from `second`. Returns `first` fully masked and
   * `second` with only that cut made (it may continue in a later piece).
   */
  joinPieces(first: string, second: string): [string, string] {
    for (const value of this.ordered) {
      for (let k = Math.min(value.length - 1, first.length); k >= 1; k--) {
        if (first.endsWith(value.slice(0, k)) && second.startsWith(value.slice(k))) {
          return [this.apply(first.slice(0, -k)) + maskText, second.slice(value.length - k)];
        }
      }
    }
    return [this.apply(first), second];
  }

  /**
   * A copy of the value with every string in it masked: plain objects, arrays,
   * Maps and the string fields of protobuf messages. Keys of plain objects are
   * masked too. Other values (numbers, dates, byte arrays) are kept as they are.
   * Returns the value itself when nothing needed masking.
   */
  applyDeep<T>(value: T): T {
    if (this.ordered.length === 0) return value;
    return this.deep(value, new WeakMap()) as T;
  }

  private deep(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === "string") return this.apply(value);
    if (value === null || typeof value !== "object") return value;
    if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      return value;
    }
    const known = seen.get(value);
    if (known !== undefined) return known;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      let changed = false;
      for (const item of value) {
        const masked = this.deep(item, seen);
        changed ||= masked !== item;
        out.push(masked);
      }
      return changed ? out : value;
    }
    if (value instanceof Map) {
      const out = new Map();
      seen.set(value, out);
      let changed = false;
      for (const [k, v] of value) {
        const mk = this.deep(k, seen);
        const mv = this.deep(v, seen);
        changed ||= mk !== k || mv !== v;
        out.set(mk, mv);
      }
      return changed ? out : value;
    }
    // Plain objects and protobuf messages: keep the prototype (and `$typeName`).
    // The keys of a message and of a oneof (`case`, `value`) are field names,
    // never data: they are kept, so a secret that happens to be a field name
    // cannot break the message. Other keys (maps, JSON outputs) are masked.
    const fieldNames = "$typeName" in value || isOneof(value);
    const out = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
    seen.set(value, out);
    let changed = false;
    for (const [k, v] of Object.entries(value)) {
      const mk = fieldNames ? k : this.apply(k);
      const mv = this.deep(v, seen);
      changed ||= mk !== k || mv !== v;
      out[mk] = mv;
    }
    return changed ? out : value;
  }
}

/** A protobuf-es oneof: `{case, value}` and nothing else. */
function isOneof(value: object): boolean {
  const keys = Object.keys(value);
  return keys.length <= 2 && keys.includes("case") &&
    keys.every((k) => k === "case" || k === "value");
}
