// One vault file, `vaults/NAME.vault`: JSON holding one AES-256-GCM blob of
// all the vault's secrets (docs/design/0020-local-vault.md). The vault's name
// and the format are the additional authenticated data, so a file renamed to
// another vault, or edited in any byte, fails to open; the key names are
// inside the blob, so nothing but the vault's name is readable without the key.
import { ErrorCode, SwampError } from "../../../runtime/mod.ts";

export const vaultFormat = "swamp-vault/1";

export interface VaultDocument {
  format: string;
  name: string;
  cipher: "AES-256-GCM";
  /** SHA-256 of a label and the key, first 16 hex digits: which key wrote it. */
  keyCheck: string;
  iv: string;
  ciphertext: string;
}

const encoder = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function unb64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function additionalData(name: string): Uint8Array {
  return encoder.encode(`${vaultFormat}\n${name}`);
}

export async function keyCheck(key: Uint8Array): Promise<string> {
  const label = encoder.encode("swamp vault key check\n");
  const data = new Uint8Array(label.length + key.length);
  data.set(label);
  data.set(key, label.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function importKey(key: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", key as BufferSource, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** The file's text for these secrets, with a fresh IV. */
export async function sealVault(
  name: string,
  secrets: Record<string, string>,
  key: Uint8Array,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = encoder.encode(JSON.stringify({ name, secrets }));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: additionalData(name) as BufferSource },
      await importKey(key),
      plain,
    ),
  );
  const doc: VaultDocument = {
    format: vaultFormat,
    name,
    cipher: "AES-256-GCM",
    keyCheck: await keyCheck(key),
    iv: b64(iv),
    ciphertext: b64(sealed),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The secrets of a vault file; `vault_unreadable` for a wrong key or any change to the file. */
export async function openVault(
  name: string,
  text: string,
  key: Uint8Array,
  where: string,
): Promise<Record<string, string>> {
  const tampered = (detail: string) =>
    new SwampError(
      ErrorCode.VAULT_UNREADABLE,
      `the vault file ${where} cannot be opened: ${detail}; nothing was changed`,
      { hint: "restore the file from version control; it was changed outside swamp" },
    );
  let doc: VaultDocument;
  try {
    doc = JSON.parse(text);
  } catch {
    throw tampered("it is not valid JSON");
  }
  if (doc === null || typeof doc !== "object" || doc.format !== vaultFormat) {
    throw tampered(`it is not a ${vaultFormat} file`);
  }
  if (doc.keyCheck !== await keyCheck(key)) {
    throw new SwampError(
      ErrorCode.VAULT_UNREADABLE,
      `the vault ${name} was written with another key than the vault key file holds; nothing was changed`,
      {
        hint:
          "use the key file the vault was written with (SWAMP_VAULT_KEY_FILE, or copy it to the path in `swamp vault list --json`)",
      },
    );
  }
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: unb64(doc.iv) as BufferSource,
          additionalData: additionalData(name) as BufferSource,
        },
        await importKey(key),
        unb64(doc.ciphertext) as BufferSource,
      ),
    );
  } catch {
    throw tampered("its authentication failed (changed, or renamed from another vault)");
  }
  const data = JSON.parse(new TextDecoder().decode(plain)) as {
    name: string;
    secrets: Record<string, string>;
  };
  if (data.name !== name) throw tampered("it belongs to another vault");
  return data.secrets;
}
