import { sha256Hex } from "../text/hash.ts";

/**
 * The id of a model definition that has none: a UUID (version 8, RFC 9562)
 * made from its path in the repository, so it is the same on every load and
 * on every machine, and changes only when the file moves.
 */
export async function definitionId(file: string): Promise<string> {
  const hex = await sha256Hex(`swamp-model-definition:${file}`);
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${
    hex.slice(17, 20)
  }-${hex.slice(20, 32)}`;
}
