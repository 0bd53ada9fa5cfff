// Small file-system primitives the file store is built from: full reads and
// writes at an offset, atomic replacement, and "missing is undefined" reads.

/** Writes every byte (FsFile.write may write fewer than asked). */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) done += await file.write(data.subarray(done));
}

/** Reads up to `length` bytes at `position`; fewer only at the end of the file. */
export async function readAt(
  file: Deno.FsFile,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  await file.seek(position, Deno.SeekMode.Start);
  let done = 0;
  while (done < length) {
    const n = await file.read(buffer.subarray(done));
    if (n === null || n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

/** Writes `data` at `position`. The file must not be open in append mode. */
export async function writeAt(
  file: Deno.FsFile,
  position: number,
  data: Uint8Array,
): Promise<void> {
  await file.seek(position, Deno.SeekMode.Start);
  await writeAll(file, data);
}

/**
 * Replaces a file so that readers see either the old or the new content,
 * never a mix: write a temporary file beside it, flush it, rename it over.
 */
export async function writeFileAtomic(path: string, text: string, sync: boolean): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  const file = await Deno.open(temp, { write: true, createNew: true });
  try {
    await writeAll(file, new TextEncoder().encode(text));
    if (sync) await file.syncData();
  } finally {
    file.close();
  }
  try {
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** Writes a new file in one go (used while a run is still being staged). */
export async function writeNewFile(path: string, text: string, sync: boolean): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    await writeAll(file, new TextEncoder().encode(text));
    if (sync) await file.syncData();
  } finally {
    file.close();
  }
}

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Makes a rename or a new entry in `dir` durable (Linux needs the directory flushed). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.syncData();
  } catch {
    // Some platforms cannot flush a directory handle; the rename itself is still atomic.
  } finally {
    handle.close();
  }
}

/** Removes a file; a file already gone is fine. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
