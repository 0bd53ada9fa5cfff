import { createHash } from "node:crypto";

/**
 * sha256 of a text, as lower-case hex. node:crypto hashes on the calling
 * thread: for the small texts hashed per API call (token secrets, workflow
 * files) that is several times cheaper than WebCrypto's round trip.
 */
export function sha256Hex(text: string): Promise<string> {
  return Promise.resolve(createHash("sha256").update(text).digest("hex"));
}
