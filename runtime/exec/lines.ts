// Turning a child's byte streams into log lines and the step's captured
// stdout. Input may be anything: partial last lines, CRLF, lines of
// megabytes, invalid UTF-8. Nothing here throws on content.

/**
 * Splits a byte stream into lines. Bytes are decoded as UTF-8 in streaming
 * mode (a character split across chunks is kept whole; invalid bytes become
 * U+FFFD). A line ends at "\n"; one "\r" before it is dropped. A line longer
 * than `maxLineChars` is emitted in pieces of that size, so memory stays
 * bounded whatever the child writes. `end()` flushes a last line that has no
 * newline.
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  readonly #maxLineChars: number;
  #partial = "";

  constructor(maxLineChars = 64 * 1024) {
    this.#maxLineChars = Math.max(1, maxLineChars);
  }

  push(bytes: Uint8Array): string[] {
    return this.#split(this.#decoder.decode(bytes, { stream: true }), false);
  }

  end(): string[] {
    return this.#split(this.#decoder.decode(), true);
  }

  #split(text: string, final: boolean): string[] {
    const lines: string[] = [];
    let buf = this.#partial + text;
    let from = 0;
    for (let nl = buf.indexOf("\n", from); nl >= 0; nl = buf.indexOf("\n", from)) {
      const end = nl > from && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.#emit(buf.slice(from, end), lines);
      from = nl + 1;
    }
    buf = buf.slice(from);
    // Keep at most one piece's worth pending: emit full pieces of a long line.
    while (buf.length > this.#maxLineChars) {
      const cut = safeCut(buf, this.#maxLineChars);
      lines.push(buf.slice(0, cut));
      buf = buf.slice(cut);
    }
    if (final) {
      // A last line without "\n"; a lone "\r" left over is not a line.
      if (buf.endsWith("\r")) buf = buf.slice(0, -1);
      if (buf.length > 0) lines.push(buf);
      buf = "";
    }
    this.#partial = buf;
    return lines;
  }

  #emit(line: string, lines: string[]): void {
    while (line.length > this.#maxLineChars) {
      const cut = safeCut(line, this.#maxLineChars);
      lines.push(line.slice(0, cut));
      line = line.slice(cut);
    }
    lines.push(line);
  }
}

/** A cut index at or before `at` that does not split a surrogate pair. */
function safeCut(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff && at > 1 ? at - 1 : at;
}

/** Keeps the first `limitBytes` bytes of stdout as the step's output. */
export class OutputCapture {
  readonly #limit: number;
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  #truncated = false;

  constructor(limitBytes: number) {
    this.#limit = Math.max(0, Math.floor(limitBytes));
  }

  add(bytes: Uint8Array): void {
    const room = this.#limit - this.#kept;
    if (bytes.length > room) this.#truncated = true;
    if (room <= 0) return;
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.#chunks.push(part.slice());
    this.#kept += part.length;
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  /** The kept bytes as text; when truncated, an incomplete last character is dropped. */
  text(): string {
    const all = new Uint8Array(this.#kept);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    const end = this.#truncated ? utf8Boundary(all) : all.length;
    return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(
      all.subarray(0, end),
    );
  }
}

/** The length of `bytes` without an incomplete UTF-8 sequence at its end. */
function utf8Boundary(bytes: Uint8Array): number {
  let i = bytes.length;
  // Walk back over at most 3 continuation bytes to the lead byte.
  let back = 0;
  while (i - back - 1 >= 0 && back < 3 && (bytes[i - back - 1] & 0xc0) === 0x80) back++;
  const leadAt = i - back - 1;
  if (leadAt < 0) return i;
  const lead = bytes[leadAt];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (need > 1 && back + 1 < need) i = leadAt;
  return i;
}

/**
 * `text` cut to at most `limitBytes` of UTF-8, as OutputCapture would have kept
 * it. Recording a step's outputs applies it whatever the executor reported (a
 * remote worker's report is only as careful as the worker), so one step's
 * outputs always fit what expressions may read.
 */
export function boundedText(text: string, limitBytes: number): { text: string; cut: boolean } {
  // Three bytes of UTF-8 at most per UTF-16 unit: a short text needs no encoding.
  if (text.length * 3 <= limitBytes) return { text, cut: false };
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= limitBytes) return { text, cut: false };
  const capture = new OutputCapture(limitBytes);
  capture.add(bytes);
  return { text: capture.text(), cut: true };
}
