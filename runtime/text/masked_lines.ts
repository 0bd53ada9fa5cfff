import type { SecretMask } from "./secret_mask.ts";

/**
 * One output stream's lines, masked. Lines reach the log whole, except that
 * a line longer than the splitter's limit (runtime/exec/lines.ts, 64 Ki
 * characters) arrives as several pieces; a secret could straddle two of
 * them. So a line at least `pieceChars` long is held until the next line of
 * the stream arrives (or the log is flushed), and a secret across the seam is
 * masked in both.
 */
export class MaskedLines {
  private held: string | undefined;

  constructor(private readonly mask: SecretMask, private readonly pieceChars = 16 * 1024) {}

  /** The lines ready to write now that `line` arrived, masked, in order. */
  push(line: string): string[] {
    const out: string[] = [];
    let current = line;
    if (this.held !== undefined) {
      const [first, rest] = this.mask.joinPieces(this.held, current);
      this.held = undefined;
      out.push(first);
      current = rest;
    }
    if (current.length >= this.pieceChars) this.held = current;
    else out.push(this.mask.apply(current));
    return out;
  }

  /** A held piece, masked, when no more is coming for now. */
  drain(): string[] {
    const held = this.held;
    this.held = undefined;
    return held === undefined ? [] : [this.mask.apply(held)];
  }
}
