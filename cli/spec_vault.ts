// `swamp vault …`: the repository's local vaults (docs/reference/vault.md). Local
// only: a vault is read on the machine that runs the steps' orchestrator.
import type { CommandSpec } from "./types.ts";

const nameArg = { name: "NAME", required: true, description: "the vault's name" };
const keyArg = { name: "KEY", required: true, description: "the secret's key in the vault" };

export const vaultCommands: CommandSpec[] = [
  {
    noun: "vault",
    verb: "create",
    summary: "create an empty encrypted vault in the repository",
    description:
      "Creates vaults/NAME.vault, an empty vault encrypted with AES-256-GCM. The first vault of a repository also creates its key file outside the repository: SWAMP_VAULT_KEY_FILE if set, else $XDG_STATE_HOME/swamp/vault-keys/ID.key (~/.local/state when XDG_STATE_HOME is unset), ID being the random id kept in vaults/.key-id; the file is made 0600 in a 0700 folder. Commit vaults/ to version control; never the key file. A vault that exists is an already_exists error.",
    args: [nameArg],
    flags: [],
    examples: ["swamp vault create prod"],
    json:
      `{"vault": "prod", "keyFile": "/home/me/.local/state/swamp/vault-keys/3f0c….key", "keyCreated": true}`,
    load: () => import("./commands/vault_create.ts"),
  },
  {
    noun: "vault",
    verb: "put",
    summary: "store a secret read from stdin in a vault",
    description:
      "Reads the secret's value from stdin (never from a flag or an argument, so it stays out of shell history and process listings), drops one trailing newline, and stores it under KEY in vault NAME, replacing an existing value. An empty value is refused (usage). The vault is re-encrypted with a fresh IV and written atomically (temporary file, fsync, rename) under a lock, so two `vault put` at once both land. A wrong or missing key file, or a vault file changed outside swamp, is vault_unreadable (exit 8) and changes nothing.",
    args: [nameArg, keyArg],
    flags: [],
    examples: [
      'printf %s "$DB_PASSWORD" | swamp vault put prod db_password',
      "swamp vault put prod tls_key < key.pem",
    ],
    json: `{"vault": "prod", "key": "db_password", "created": true}`,
    load: () => import("./commands/vault_put.ts"),
  },
  {
    noun: "vault",
    verb: "list",
    summary: "list vaults, or the keys of one vault (never values)",
    description:
      "Without NAME, lists the repository's vaults and says where the key file is looked for. With NAME, opens that vault (its key file must be right) and lists its keys. Values are never shown. -q prints one name per line.",
    args: [{ name: "NAME", required: false, description: "a vault whose keys to list" }],
    flags: [],
    examples: ["swamp vault list", "swamp vault list prod", "swamp vault list prod -q"],
    json:
      `{"vaults": [{"name": "prod"}], "keyFile": "/home/me/.local/state/swamp/vault-keys/3f0c….key"}\n{"vault": "prod", "keys": ["db_password", "tls_key"]}`,
    load: () => import("./commands/vault_list.ts"),
  },
  {
    noun: "vault",
    verb: "rm",
    summary: "remove a secret from a vault, or a whole vault",
    description:
      "With NAME and KEY, removes that secret (secret_not_found if the vault has no such key); the vault must open with the key file. With NAME only, deletes the whole vault file and every secret in it, which cannot be undone except from version control.",
    args: [nameArg, { name: "KEY", required: false, description: "the secret to remove" }],
    flags: [],
    examples: ["swamp vault rm prod db_password", "swamp vault rm staging"],
    json:
      `{"vault": "prod", "key": "db_password", "removed": true}\n{"vault": "staging", "removed": true}`,
    load: () => import("./commands/vault_rm.ts"),
  },
];
