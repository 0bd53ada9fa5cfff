// Docker's multiplexed attach stream (no TTY): frames of an 8-byte header,
// [stream, 0, 0, 0, size as 4 bytes big-endian], then `size` bytes. Stream 1
// is stdout, 2 stderr. Frames may be split across chunks, or several may
// arrive in one chunk.

export type Frame = { stream: "stdout" | "stderr"; bytes: Uint8Array };

export class Demuxer {
  #pending = new Uint8Array(0);

  push(chunk: Uint8Array): Frame[] {
    const buf = this.#pending.length === 0 ? chunk : concat(this.#pending, chunk);
    const frames: Frame[] = [];
    let at = 0;
    while (buf.length - at >= 8) {
      const size = ((buf[at + 4] << 24) >>> 0) + (buf[at + 5] << 16) + (buf[at + 6] << 8) +
        buf[at + 7];
      if (buf.length - at - 8 < size) break;
      const kind = buf[at];
      const bytes = buf.slice(at + 8, at + 8 + size);
      if (kind === 1 || kind === 2) {
        frames.push({ stream: kind === 1 ? "stdout" : "stderr", bytes });
      }
      at += 8 + size;
    }
    this.#pending = buf.slice(at);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
