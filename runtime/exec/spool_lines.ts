// Lines of a spool file (decision 0024) with the byte offset just past each:
// the supervisor stores that offset with the line, and whoever imports the
// rest of the file after a crash starts there. A line longer than
// `maxLineBytes` is stored in pieces, each with its own exact end offset, so
// an import never repeats or skips part of one.

export interface SpoolLine {
  text: string;
  /** Offset in the file just past this line (its "\n" included). */
  offset: number;
}

const NL = 0x0a;
const CR = 0x0d;

export class SpoolLineSplitter {
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  readonly #max: number;
  #partial: Uint8Array[] = [];
  #partialBytes = 0;
  /** Offset of the first byte not yet given to push. */
  #at: number;

  /** `from`: the file offset of the first byte pushed. */
  constructor(from = 0, maxLineBytes = 64 * 1024) {
    this.#at = from;
    this.#max = Math.max(4, maxLineBytes);
  }

  push(bytes: Uint8Array): SpoolLine[] {
    const lines: SpoolLine[] = [];
    let from = 0;
    for (let nl = bytes.indexOf(NL); nl >= 0; nl = bytes.indexOf(NL, from)) {
      this.#keep(bytes.subarray(from, nl), lines, this.#at + nl);
      let line = this.#take();
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
      lines.push({ text: this.#decoder.decode(line), offset: this.#at + nl + 1 });
      from = nl + 1;
    }
    this.#keep(bytes.subarray(from), lines, this.#at + bytes.length);
    this.#at += bytes.length;
    return lines;
  }

  /** The last line without "\n", if any (a lone "\r" is not a line). */
  end(): SpoolLine[] {
    let rest = this.#take();
    if (rest.length > 0 && rest[rest.length - 1] === CR) rest = rest.subarray(0, -1);
    return rest.length > 0 ? [{ text: this.#decoder.decode(rest), offset: this.#at }] : [];
  }

  /** Adds to the pending line; emits full pieces of a line longer than the limit. */
  #keep(bytes: Uint8Array, lines: SpoolLine[], end: number): void {
    if (bytes.length === 0) return;
    this.#partial.push(bytes.slice());
    this.#partialBytes += bytes.length;
    while (this.#partialBytes > this.#max) {
      const all = this.#take();
      const cut = utf8Cut(all, this.#max);
      const pieceEnd = end - (all.length - cut);
      lines.push({ text: this.#decoder.decode(all.subarray(0, cut)), offset: pieceEnd });
      const rest = all.subarray(cut);
      if (rest.length > 0) {
        this.#partial.push(rest);
        this.#partialBytes = rest.length;
      }
    }
  }

  #take(): Uint8Array {
    const parts = this.#partial;
    this.#partial = [];
    this.#partialBytes = 0;
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let i = 0;
    for (const p of parts) {
      out.set(p, i);
      i += p.length;
    }
    return out;
  }
}

/** A cut at or before `at` that does not split a UTF-8 sequence. */
function utf8Cut(bytes: Uint8Array, at: number): number {
  let cut = at;
  while (cut > at - 3 && cut > 1 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return cut;
}
