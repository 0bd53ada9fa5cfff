import { sha256HexSync } from "./sha256.ts";

/** Texts up to this many characters are hashed here; longer ones by WebCrypto. */
const syncLimit = 4096;

/**
 * sha256 of a text, as lower-case hex. Short texts (token secrets, hashed
 * per API call) are hashed on the calling thread, cheaper than WebCrypto's
 * round trip; long ones (workflow files, up to megabytes) natively by
 * WebCrypto. Not node:crypto: importing it costs every process the Node
 * compatibility layer (sha256.ts).
 */
export async function sha256Hex(text: string): Promise<string> {
  if (text.length <= syncLimit) return sha256HexSync(text);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
