// Small file-system primitives the file store is built from: full reads and
// writes at an offset, atomic replacement, and "missing is undefined" reads.
//
// All synchronous, on purpose (docs/design/0006-file-store-sync-io.md): each
// asynchronous file operation costs a round trip through Deno's thread pool,
// measured at 0.3–1 ms here, against microseconds for the same call made
// synchronously, and a store write is a dozen such calls on small local files.

/** Writes every byte (FsFile.writeSync may write fewer than asked). */
export function writeAll(file: Deno.FsFile, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += file.writeSync(data.subarray(done));
}

/** Reads up to `length` bytes at `position`; fewer only at the end of the file. */
export function readAt(file: Deno.FsFile, position: number, length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  file.seekSync(position, Deno.SeekMode.Start);
  let done = 0;
  while (done < length) {
    const n = file.readSync(buffer.subarray(done));
    if (n === null || n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

/** Writes `data` at `position`. The file must not be open in append mode. */
export function writeAt(file: Deno.FsFile, position: number, data: Uint8Array): void {
  file.seekSync(position, Deno.SeekMode.Start);
  writeAll(file, data);
}

/**
 * Replaces a file so that readers see either the old or the new content,
 * never a mix: write a temporary file beside it, flush it, rename it over.
 */
export function writeFileAtomic(path: string, text: string, sync: boolean): void {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  writeNewFile(temp, text, sync);
  try {
    Deno.renameSync(temp, path);
  } catch (error) {
    removeIfExists(temp);
    throw error;
  }
}

/** Writes a new file in one go; fails if it exists. */
export function writeNewFile(path: string, text: string, sync: boolean): void {
  const file = Deno.openSync(path, { write: true, createNew: true });
  try {
    writeAll(file, new TextEncoder().encode(text));
    if (sync) file.syncDataSync();
  } finally {
    file.close();
  }
}

/** The file's text, or undefined when it does not exist. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Makes a rename or a new entry in `dir` durable (Linux needs the directory flushed). */
export function syncDir(dir: string): void {
  const handle = Deno.openSync(dir, { read: true });
  try {
    handle.syncDataSync();
  } catch {
    // Some platforms cannot flush a directory handle; the rename itself is still atomic.
  } finally {
    handle.close();
  }
}

/** Removes a file; a file already gone is fine. */
export function removeIfExists(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Runs synchronous store work behind the asynchronous port: a throw becomes a rejection. */
export function promised<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
