// Where the file store keeps things under a repository's `.swamp` directory.
//
//   runs/<first 2 chars of id>/<id>/events.jsonl   one protobuf-JSON RunEvent per line
//                                  /snapshot.json  the newest Run record
//                                  /summary.json   {"slot": n, "summary": RunSummary}
//                                  /logs.jsonl     one protobuf-JSON LogLine per line
//   index/runs                     fixed-width run index, one line per run (index_file.ts)
//   index/active/<id>              an empty marker per run that is not terminal
//   locks/<encoded name>.json      one file per held lock (locks.ts)
//   tokens/<encoded name>.json     one file per API token (tokens.ts)
//   worker-tokens/<encoded name>.json  one file per worker enrollment token (worker_tokens.ts)
//   trash/<id>.<uuid>              a pruned run's directory, renamed here, then deleted (prune.ts)
//
// Runs are sharded by the first two characters of their id so a prefix lookup
// lists one small directory instead of every run.

import { sha256HexSync } from "../../../runtime/mod.ts";

/** Longest encoded name kept whole in a file name; longer ones are cut and hashed. */
const maxEncodedName = 180;

/**
 * A file name (`.json`) for any name a user gives (a token's). Long names are
 * cut and suffixed with their hash after "=", a character encodeURIComponent
 * never emits, so a short name can never spell the file name of a long one.
 */
export function encodedFileName(name: string): string {
  const encoded = encodeURIComponent(name);
  if (encoded.length <= maxEncodedName) return `${encoded}.json`;
  const hex = sha256HexSync(name);
  return `${encoded.slice(0, 100)}=${hex}.json`;
}

/** Run ids are UUIDs; anything else is refused before it can name a path. */
const runIdPattern = /^[0-9A-Za-z]{2}[0-9A-Za-z_-]{0,34}$/;

export function isRunId(id: string): boolean {
  return runIdPattern.test(id);
}

/** The longest run id the fixed-width index can hold. */
export const maxRunIdLength = 36;

export class Layout {
  readonly runs: string;
  readonly index: string;
  readonly active: string;
  readonly locks: string;
  /** Locks of hashed names are written here first, then hard-linked into `locks`. */
  readonly lockTemp: string;
  readonly tokens: string;
  /** Token files are written here first, then hard-linked into `tokens`. */
  readonly tokenTemp: string;
  readonly workerTokens: string;
  /** Worker token files are written here first, then hard-linked into `workerTokens`. */
  readonly workerTokenTemp: string;
  /** Pruned runs are renamed here (their one atomic step), then deleted. */
  readonly trash: string;

  constructor(readonly root: string) {
    this.runs = `${root}/runs`;
    this.index = `${root}/index/runs`;
    this.active = `${root}/index/active`;
    this.locks = `${root}/locks`;
    this.lockTemp = `${root}/locks/.tmp`;
    this.tokens = `${root}/tokens`;
    this.tokenTemp = `${root}/tokens/.tmp`;
    this.workerTokens = `${root}/worker-tokens`;
    this.workerTokenTemp = `${root}/worker-tokens/.tmp`;
    this.trash = `${root}/trash`;
  }

  shard(idOrPrefix: string): string {
    return `${this.runs}/${idOrPrefix.slice(0, 2)}`;
  }

  run(id: string): string {
    return `${this.shard(id)}/${id}`;
  }

  events(id: string): string {
    return `${this.run(id)}/events.jsonl`;
  }

  snapshot(id: string): string {
    return `${this.run(id)}/snapshot.json`;
  }

  summary(id: string): string {
    return `${this.run(id)}/summary.json`;
  }

  logs(id: string): string {
    return `${this.run(id)}/logs.jsonl`;
  }

  activeMarker(id: string): string {
    return `${this.active}/${id}`;
  }

  /** A fresh directory name beside the run's final place, for building it before a rename. */
  stagingRun(id: string): string {
    return `${this.shard(id)}/.new-${id}-${crypto.randomUUID()}`;
  }
}
