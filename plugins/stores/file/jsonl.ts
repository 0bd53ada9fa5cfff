// Append-only JSONL files whose lines carry a strictly increasing "seq"
// (events.jsonl, logs.jsonl). Everything here costs the size of a few lines,
// not the size of the file: the last seq is read from the tail, and a read
// "after seq N" finds its starting line by bisecting byte offsets.
//
// A crash can leave a final line without its newline. Readers ignore such a
// torn line; the next writer (holding the file's lock) cuts it off first.
// Synchronous like fsio.ts, for the same reason.
import { readAt, writeAll } from "./fsio.ts";

const newline = 0x0a;
const chunkBytes = 64 * 1024;
/** The last line is usually short: the tail is read in a small piece first. */
const firstTailBytes = 4 * 1024;
const decoder = new TextDecoder();

export interface Tail {
  /** Seq of the last complete line; 0 when there is none. */
  lastSeq: bigint;
  /** Offset just past the last complete line (where the next line goes). */
  end: number;
  size: number;
}

function seqOf(line: Uint8Array): bigint {
  const value = (JSON.parse(decoder.decode(line)) as { seq?: string | number }).seq;
  return BigInt(value ?? 0);
}

/**
 * Finds the last complete line by reading backwards from the end in chunks.
 * `size` is the file's, when the caller has just looked.
 */
export function readTail(file: Deno.FsFile, size = file.statSync().size): Tail {
  let end = -1; // offset just past the last "\n"
  const pieces: Uint8Array[] = []; // the last line's bytes, collected back to front
  let position = size;
  let piece = firstTailBytes;
  scan: while (position > 0) {
    const from = Math.max(0, position - piece);
    piece = chunkBytes;
    const chunk = readAt(file, from, position - from);
    let stop = chunk.length;
    for (let i = chunk.length - 1; i >= 0; i--) {
      if (chunk[i] !== newline) continue;
      if (end < 0) {
        end = from + i + 1;
        stop = i;
        continue;
      }
      pieces.push(chunk.subarray(i + 1, stop));
      break scan;
    }
    if (end >= 0) pieces.push(chunk.subarray(0, stop));
    position = from;
  }
  if (end < 0) return { lastSeq: 0n, end: 0, size };
  return { lastSeq: seqOf(concat(pieces.reverse())), end, size };
}

/**
 * Appends whole lines at the tail, first cutting off a torn line a crashed
 * writer left. The caller holds the file's lock and opened it for append.
 * Returns the file's size after them.
 */
export function appendLines(
  file: Deno.FsFile,
  tail: Tail,
  lines: string[],
  sync: boolean,
): number {
  if (tail.end < tail.size) file.truncateSync(tail.end);
  if (lines.length === 0) return tail.end;
  const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
  writeAll(file, bytes);
  if (sync) file.syncDataSync();
  return tail.end + bytes.length;
}

/**
 * The first complete line starting at or after `position` and before `limit`:
 * its start offset and bytes, or undefined when there is none.
 */
function lineFrom(
  file: Deno.FsFile,
  position: number,
  limit: number,
): { start: number; bytes: Uint8Array } | undefined {
  let start = position;
  if (position > 0) {
    // The line containing position - 1 ends somewhere; the next one starts after it.
    start = -1;
    for (let at = position - 1; at < limit && start < 0; at += chunkBytes) {
      const chunk = readAt(file, at, Math.min(chunkBytes, limit - at));
      const i = chunk.indexOf(newline);
      if (i >= 0) start = at + i + 1;
      if (chunk.length === 0) break;
    }
    if (start < 0 || start >= limit) return undefined;
  }
  const pieces: Uint8Array[] = [];
  for (let at = start;; at += chunkBytes) {
    const chunk = readAt(file, at, chunkBytes);
    if (chunk.length === 0) return undefined; // torn final line
    const i = chunk.indexOf(newline);
    if (i >= 0) {
      pieces.push(chunk.subarray(0, i));
      return { start, bytes: concat(pieces) };
    }
    pieces.push(chunk);
  }
}

/**
 * Offset of the first line whose seq is greater than `afterSeq` (or an offset
 * at most one window before it). Invariant: lines starting before `low` have
 * seq <= afterSeq; lines starting at or after `high` have seq > afterSeq.
 */
function seekAfter(file: Deno.FsFile, size: number, afterSeq: bigint): number {
  let low = 0;
  let high = size;
  while (high - low > chunkBytes) {
    const middle = low + Math.floor((high - low) / 2);
    const line = lineFrom(file, middle, high);
    if (!line) {
      // No line starts in [middle, high): the lines at or after middle are those at or after high.
      high = middle;
    } else if (seqOf(line.bytes) <= afterSeq) {
      low = line.start + line.bytes.length + 1;
    } else {
      high = line.start;
    }
  }
  return low;
}

export interface ReadOptions<T> {
  afterSeq: bigint;
  limit?: number;
  /** Turns a parsed line into a result, or undefined to skip it. */
  accept: (json: unknown) => T | undefined;
}

/**
 * Lines with seq > afterSeq, in file order, at most `limit`. Returns
 * undefined when the file does not exist.
 */
export function readAfter<T>(path: string, options: ReadOptions<T>): T[] | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return readOpenAfter(file, file.statSync().size, options).values;
  } finally {
    file.close();
  }
}

/**
 * readAfter on an open file of `size` bytes; also the offset just past the
 * last whole line read (where a read of what is appended later starts).
 */
export function readOpenAfter<T>(
  file: Deno.FsFile,
  size: number,
  options: ReadOptions<T>,
): { values: T[]; end: number } {
  const limit = options.limit ?? Infinity;
  const values: T[] = [];
  const position = options.afterSeq > 0n ? seekAfter(file, size, options.afterSeq) : 0;
  if (limit <= 0) return { values, end: position };
  const end = scanLines(file, position, size, (json) => {
    if (BigInt((json as { seq?: string | number }).seq ?? 0) <= options.afterSeq) return true;
    const value = options.accept(json);
    if (value !== undefined) values.push(value);
    return values.length < limit;
  });
  return { values, end };
}

/**
 * Parses the whole lines from `position` up to `size`, handing each to `take`
 * until it returns false. Returns the offset just past the last line handed
 * over: where a later read of what was appended starts (a torn last line is
 * not handed over, and is read again once whole).
 */
export function scanLines(
  file: Deno.FsFile,
  position: number,
  size: number,
  take: (json: unknown) => boolean,
): number {
  let carry = new Uint8Array(0);
  let end = position;
  while (position < size) {
    const chunkStart = position - carry.length;
    const chunk = concat([carry, readAt(file, position, chunkBytes)]);
    position += chunk.length - carry.length;
    if (chunk.length === carry.length) break;
    let start = 0;
    for (let i = chunk.indexOf(newline); i >= 0; i = chunk.indexOf(newline, start)) {
      const json = JSON.parse(decoder.decode(chunk.subarray(start, i)));
      start = i + 1;
      end = chunkStart + start;
      if (!take(json)) return end;
    }
    carry = chunk.slice(start); // an unfinished line waits for the next chunk
  }
  return end;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
