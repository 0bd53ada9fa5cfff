// `swamp store …`: the repository's store itself (docs/reference/stores.md).
// Local only: it reads .swamp.yaml and reaches the store from this machine.
import type { CommandSpec } from "./types.ts";

export const storeCommands: CommandSpec[] = [
  {
    noun: "store",
    verb: "migrate",
    summary: "show or apply the store's pending schema migrations",
    description:
      "For a PostgreSQL store (store: postgres in .swamp.yaml): reads the schema version the database records (swamp_schema), and applies the numbered steps this swamp knows after it, all in one transaction under an advisory lock, so two processes never apply a step twice; --dry-run lists the pending steps and their SQL and changes nothing. Every swamp command that opens the store applies them too, so this is for seeing what an upgrade will do, or doing it at a chosen time. A database migrated by a newer swamp is store_schema_newer (exit 15) and is never touched; one that cannot be reached is store_unreachable (exit 14). The file and SQLite stores have no versioned schema: it says there is nothing to migrate.",
    args: [],
    flags: [{
      name: "dry-run",
      type: "boolean",
      description: "list the pending steps (with their SQL under -v), apply nothing",
    }],
    examples: [
      "swamp store migrate --dry-run",
      "swamp store migrate",
      "swamp store migrate --json",
    ],
    json:
      `{"store": "postgres", "target": "db.internal:5432, database swamp, user swamp", "currentVersion": 0, "knownVersion": 1, "pending": [{"version": 1, "name": "runs, events, snapshots, logs, locks, tokens, leases and data items"}], "applied": true}\n{"store": "file", "pending": [], "applied": false}`,
    load: () => import("./commands/store_migrate.ts"),
  },
];
