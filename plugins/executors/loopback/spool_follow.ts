// Follows a spool file the step writes its stdout or stderr into (decision
// 0024): reads what is there, waits a little when it reaches the end, and
// ends once a read that began after the step's writers were gone finds
// nothing more. The bytes are in the file the moment the step writes them,
// so nothing of them depends on this process.

/** The longest wait between two looks at a file that does not grow. */
const MAX_IDLE_MS = 25;
const CHUNK_BYTES = 64 * 1024;
/**
 * Every follower reads into this one buffer and copies out what it read: reads
 * are synchronous, so none overlap, and a step does not allocate 64 KiB per
 * stream and per pull (garbage the collector then works through).
 */
let scratch: Uint8Array | undefined;

export interface SpoolEnds {
  /** Resolves when the step's main process has exited (waits end early then). */
  exited: Promise<unknown>;
  /** Whether nothing can write the file any more (checked only after `exited`). */
  writersGone: () => boolean;
}

/** Creates the file if absent; returns its size now, where following it starts. */
export function openSpool(path: string): number {
  const file = Deno.openSync(path, { write: true, create: true, append: true, mode: 0o600 });
  try {
    return file.statSync().size;
  } finally {
    file.close();
  }
}

export function followSpool(
  path: string,
  from: number,
  ends: SpoolEnds,
): ReadableStream<Uint8Array> {
  let file: Deno.FsFile | undefined;
  let exited = false;
  let cancelled = false;
  void ends.exited.then(() => exited = true, () => exited = true);
  let idleMs = 1;
  return new ReadableStream<Uint8Array>({
    // Reads are synchronous: a regular file's read does not wait for a writer,
    // and a trip to the thread pool per read cost more than the read (bench/loopback_spawn.ts).
    start() {
      file = Deno.openSync(path, { read: true });
      file.seekSync(from, Deno.SeekMode.Start);
    },
    async pull(controller) {
      const buffer = scratch ??= new Uint8Array(CHUNK_BYTES);
      for (;;) {
        if (cancelled) return;
        // Decided before the read: a read begun after the writers ended sees all they wrote.
        const last = exited && ends.writersGone();
        const n = file!.readSync(buffer);
        if (n !== null && n > 0) {
          idleMs = 1;
          controller.enqueue(buffer.slice(0, n));
          return;
        }
        if (last) {
          file!.close();
          file = undefined;
          controller.close();
          return;
        }
        await nap(idleMs, exited ? undefined : ends.exited);
        idleMs = Math.min(idleMs * 2, MAX_IDLE_MS);
      }
    },
    cancel() {
      cancelled = true;
      file?.close();
      file = undefined;
    },
  });
}

/** Sleeps `ms`, or less if `early` settles first. */
function nap(ms: number, early?: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sleep = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  if (early === undefined) return sleep;
  return Promise.race([sleep, early.then(() => {}, () => {})]).finally(() => clearTimeout(timer));
}
