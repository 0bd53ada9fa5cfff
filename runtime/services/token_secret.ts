import { sha256Hex } from "../text/hash.ts";

/** A token's name (API or worker): lower-case letters, digits and dashes, at most 64 characters. */
export const tokenNamePattern = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The longest any token may live: ten years, in seconds. */
export const maxTokenSeconds = 10 * 365 * 24 * 3600;

/** 32 random bytes as base64url: the secret half of a `NAME.SECRET` credential. */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** What a store keeps instead of the secret: its SHA-256, lower-case hex. */
export const secretHash: (secret: string) => Promise<string> = sha256Hex;

/** Compares two hex digests in time that does not depend on where they differ. */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
