// The hash of a repository file, remembered while the file is unchanged.
// Every read of a run says whether its workflow file changed since the run
// began; through `swamp serve` that is once per GetRun, and a stat is far
// cheaper than reading and hashing the file each time.
import { sha256Hex } from "../text/hash.ts";

/**
 * File systems stamp modification times from a coarse clock (a few
 * milliseconds): two writes within one tick that leave the size alike would
 * look alike. A version younger than this margin is never trusted for later.
 */
const settleMs = 50;

/** A file's identity and version as the file system reports it. */
export interface FileVersion {
  /** Changes when the file is rewritten (in place or by rename) or grows. */
  signature: string;
  /** Old enough that a later write cannot share its signature: safe to remember. */
  settled: boolean;
}

/** Throws NotFound for a missing file. */
export function fileVersion(path: string): FileVersion {
  const s = Deno.statSync(path);
  const mtime = s.mtime?.getTime() ?? 0;
  const ctime = s.ctime?.getTime() ?? 0;
  return {
    signature: `${s.ino}:${s.size}:${mtime}:${ctime}`,
    settled: Date.now() - Math.max(mtime, ctime) > settleMs,
  };
}

const CAPACITY = 512;
const hashes = new Map<string, { signature: string; hash: string }>();

/** sha256 (hex) of the file's text; throws as Deno.readTextFile does. */
export async function fileSha256(path: string): Promise<string> {
  const { signature, settled } = fileVersion(path);
  const known = hashes.get(path);
  if (known?.signature === signature) return known.hash;
  const hash = await sha256Hex(await Deno.readTextFile(path));
  if (!settled) return hash;
  // The signature was taken before the read: a change during it makes the next call re-read.
  hashes.delete(path);
  hashes.set(path, { signature, hash });
  if (hashes.size > CAPACITY) hashes.delete(hashes.keys().next().value!);
  return hash;
}
