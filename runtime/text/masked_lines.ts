import type { SecretMask } from "./secret_mask.ts";

/** A line ready to write, with what its caller gave with it (such as where it was read from). */
export interface MaskedLine<Tag> {
  text: string;
  tag?: Tag;
}

/**
 * One output stream's lines, masked. Lines reach the log whole, except that
 * a line longer than the splitter's limit (runtime/exec/lines.ts, 64 Ki
 * characters) arrives as several pieces; a secret could straddle two of
 * them. So a line at least `pieceChars` long is held until the next line of
 * the stream arrives (or the log is flushed), and a secret across the seam is
 * masked in both. Each line keeps the tag it came with.
 */
export class MaskedLines<Tag = undefined> {
  private held: MaskedLine<Tag> | undefined;

  constructor(private readonly mask: SecretMask, private readonly pieceChars = 16 * 1024) {}

  /** The lines ready to write now that `line` arrived, masked, in order. */
  push(line: string, tag?: Tag): MaskedLine<Tag>[] {
    const out: MaskedLine<Tag>[] = [];
    let current = line;
    if (this.held !== undefined) {
      const [first, rest] = this.mask.joinPieces(this.held.text, current);
      out.push({ text: first, tag: this.held.tag });
      this.held = undefined;
      current = rest;
    }
    if (current.length >= this.pieceChars) this.held = { text: current, tag };
    else out.push({ text: this.mask.apply(current), tag });
    return out;
  }

  /** A held piece, masked, when no more is coming for now. */
  drain(): MaskedLine<Tag>[] {
    const held = this.held;
    this.held = undefined;
    return held === undefined ? [] : [{ text: this.mask.apply(held.text), tag: held.tag }];
  }
}
