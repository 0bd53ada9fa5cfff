// A supervisor waiting for a repository's next run (docs/design/0032): where
// it listens, who may use it, and the lines it exchanges with `workflow run`.
// Light on imports: cli/main.ts loads it on every local `workflow run`.

/** The request `workflow run` hands a waiting supervisor, as one JSON line. */
export interface StandbySubmit {
  protocol: 1;
  /** The bundle the CLI runs from: a supervisor from another build declines. */
  build: string;
  /** The repository root, found as the command finds it. */
  root: string;
  /** The command's working directory and environment: the run gets these, not the supervisor's. */
  cwd: string;
  env: Record<string, string>;
  request: { workflow: string; inputs: Record<string, unknown>; detach: boolean };
}

/**
 * A read command a waiting supervisor runs for the command line that sent it
 * (decision 0033): the answer is the command's output and exit status.
 */
export interface CommandSubmit {
  protocol: 1;
  build: string;
  root: string;
  cwd: string;
  env: Record<string, string>;
  command: {
    argv: string[];
    stdoutTerminal: boolean;
    stderrTerminal: boolean;
    /** It goes through a server (--server or SWAMP_SERVER), not the repository (decision 0036). */
    remote?: boolean;
  };
}

/**
 * What a served command printed, in the order it printed it (1 stdout, 2
 * stderr; base64), and its exit status; or why it was not served. `started`
 * comes first, once the command's turn has come (commands are served one at
 * a time).
 */
export type CommandReply =
  | { started: true }
  | { code: number; output: [1 | 2, string][] }
  | { declined: string };

/**
 * The lines back: the run as created (base64 protobuf; the command answers `{taken: true}`),
 * then `claimed`; or the error creating it gave, or a refusal to take it.
 */
export type StandbyReply =
  | { created: string; pid: number }
  | { claimed: true }
  | { error: StandbyError }
  | { declined: string };

/** A SwampError as it crosses the socket (code as its number, diagnostics as base64 protobuf). */
export interface StandbyError {
  code: number;
  message: string;
  hint: string;
  diagnostics: string[];
  cause: string;
}

/**
 * Seconds a waiting supervisor waits for a run before it exits; 0 turns
 * waiting off. At most 24 days (a longer timer would fire at once).
 */
export function standbyIdleSeconds(): number {
  const text = Deno.env.get("SWAMP_STANDBY_IDLE")?.trim();
  if (text === undefined || text === "") return 600;
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 ? Math.min(value, 24 * 86_400) : 600;
}

/**
 * The build this code runs from: the directory of the launcher's bundle, whose
 * name changes with every rebuild. Running from the sources there is none, and
 * no supervisor waits: nothing would tell an edited source from the one loaded.
 */
export function bundleBuild(): string | undefined {
  const url = import.meta.url;
  if (!url.startsWith("file:") || !url.endsWith(".js")) return undefined;
  return decodeURIComponent(new URL(".", url).pathname).replace(/\/$/, "");
}

/**
 * The socket of the supervisor waiting for `root`'s next run, for this user;
 * undefined when there can be none (waiting off, or no private directory for
 * it). The directory must be this user's alone: the request carries the
 * command's environment, secrets included.
 */
export function standbySocket(root: string): string | undefined {
  if (standbyIdleSeconds() === 0) return undefined;
  const uid = Deno.uid();
  if (uid === null) return undefined;
  const dir = `${Deno.env.get("XDG_RUNTIME_DIR") || "/tmp"}/swamp-${uid}`;
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) return undefined;
  }
  try {
    const info = Deno.lstatSync(dir);
    if (!info.isDirectory || info.uid !== uid || ((info.mode ?? 0o777) & 0o077) !== 0) {
      return undefined;
    }
  } catch {
    return undefined;
  }
  return `${dir}/run-${pathHash(root)}.sock`;
}

/** Two 32-bit FNV-1a hashes of the path (16 hex digits): a socket name short enough for any root. */
function pathHash(path: string): string {
  const bytes = new TextEncoder().encode(path);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ bytes.length;
  for (const byte of bytes) {
    a = Math.imul(a ^ byte, 0x01000193) >>> 0;
    b = Math.imul(b ^ byte, 0x5bd1e995) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/**
 * The repository at or above `dir` (the directory holding `.swamp.yaml`),
 * found as the runtime's findRepoRoot finds it, without loading the runtime;
 * undefined where that would fail (no repository, or a directory it cannot read).
 */
export function repoRootAbove(dir: string): string | undefined {
  let at = dir.replace(/\/+$/, "") || "/";
  for (;;) {
    try {
      Deno.statSync(`${at}/.swamp.yaml`);
      return at;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) return undefined;
    }
    const parent = at.slice(0, at.lastIndexOf("/")) || "/";
    if (parent === at) return undefined;
    at = parent;
  }
}

/** Both ends' view of the connection: one JSON line at a time each way. */
export interface LineChannel {
  /** The next line, parsed; undefined once the other side has closed. */
  next(): Promise<unknown | undefined>;
  /** False when the other side is gone. */
  send(value: unknown): Promise<boolean>;
  close(): void;
}

export function lineChannel(conn: Deno.Conn): LineChannel {
  return {
    next: lineReader(conn),
    send: (value) => writeLine(conn, value),
    close: () => {
      try {
        conn.close();
      } catch {
        // closed already
      }
    },
  };
}

function lineReader(conn: Deno.Conn): () => Promise<unknown | undefined> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  /** How much of `text` is known to hold no newline: a long line is searched once, not per read. */
  let searched = 0;
  let ended = false;
  return async () => {
    for (;;) {
      const at = text.indexOf("\n", searched);
      if (at >= 0) {
        const line = text.slice(0, at);
        text = text.slice(at + 1);
        searched = 0;
        return JSON.parse(line);
      }
      searched = text.length;
      if (ended) return undefined;
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) {
        ended = true;
        text += decoder.decode();
      } else text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  };
}

async function writeLine(conn: Deno.Conn, value: unknown): Promise<boolean> {
  const bytes = new TextEncoder().encode(JSON.stringify(value) + "\n");
  try {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
    return true;
  } catch {
    return false;
  }
}

/** Protobuf bytes as they cross the socket inside a JSON line. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(text);
}

export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
