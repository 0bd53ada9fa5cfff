// `swamp serve` and the `auth` commands of the command table (see spec.ts).
import type { CommandSpec } from "./types.ts";

const tokenJson =
  `{"name": "ci", "role": "operator", "createTime": "2026-12-04T09:00:00Z", "expireTime": "2027-01-03T09:00:00Z", "createdBy": "ada", "state": "active"}`;

export const serveCommands: CommandSpec[] = [
  {
    noun: "serve",
    verb: "",
    summary: "serve the RPC API on one port and own the runs submitted to it",
    description:
      'Serves RunService, RepoService, AuthService, WorkerService and DataService over gRPC, gRPC-web and Connect (JSON and binary) on one HTTP/2 port, for the repository (--repo, or the one around the current directory). Prints its URL and, with TLS, the SHA-256 fingerprint of its certificate: what clients pin with --pin. Every call needs an API token (`swamp auth token create`); what it may do follows the token\'s role. Runs submitted to it are owned by this process (no supervisor per run); on start it reconciles runs a previous server left (a run whose owner died is abandoned, its processes ended, its locks released; suspended runs stay suspended), and it applies gate timeouts on its own timer. On a SQLite store a thread of its own checkpoints the database\'s write-ahead log, so that the checkpoints\' file syncs never hold up the runs or the API (a checkpoint that fails is reported once as an `error` event with `where: "checkpoints"`; decision 0037). Refuses a non-loopback address without TLS unless --insecure. SIGTERM or Ctrl-C drains: new calls are refused (`unavailable`, "this swamp serve instance is draining") and open API streams end, while workers\' control streams stay open, so steps on workers still report; owned runs get --drain-timeout to settle, runs still running a step after it are cancelled with their processes confirmed gone (on workers too), and it exits 0. On a PostgreSQL store with another live instance, the drain hands the runs over instead: nothing new starts, each run is left to the others once no step of it runs on this host (steps on workers go on and are adopted by the instance that claims the run), and the last line says where each went: `{"event": "stopped", "cancelled": [], "handedOver": [{"runId": "…", "to": "INSTANCE"}]}` (`to` absent: not claimed within 15 s; another instance still takes it). Workers attach with `swamp worker connect` and their enrollment token (no API token); a worker that disconnects keeps its session for --worker-grace. With --json, prints one JSON line per lifecycle event (listening, reconciled, run_owned, run_released, worker_connected, worker_disconnected, worker_lost, worker_refused, worker_session_mismatch, worker_session_renewed, worker_draining, lease_error, takeover, error, draining, stopped). On a PostgreSQL store several instances may serve one repository: each registers and heartbeats in the store, and takes over the runs of an instance whose heartbeat lapsed for 5 s (docs/guides/ha.md).',
    args: [],
    flags: [
      {
        name: "listen",
        type: "string",
        value: "HOST:PORT",
        description: "address to listen on (default 127.0.0.1:7870; port 0 picks a free one)",
      },
      {
        name: "tls-cert",
        type: "string",
        value: "FILE",
        description: "PEM certificate (chain) to serve; with --tls-key",
      },
      {
        name: "tls-key",
        type: "string",
        value: "FILE",
        description: "PEM private key of --tls-cert",
      },
      {
        name: "tls-self-signed",
        type: "boolean",
        description:
          "serve a self-signed certificate made once for this repository and kept in .swamp/tls/ (its pin survives restarts)",
      },
      {
        name: "insecure",
        type: "boolean",
        description:
          "allow a non-loopback address without TLS (only behind something that encrypts)",
      },
      {
        name: "drain-timeout",
        type: "string",
        value: "DURATION",
        description:
          "on SIGTERM, how long owned runs may take to settle (or, handing over, to end the steps they run on this host) before they are cancelled (default 30s)",
      },
      {
        name: "worker-grace",
        type: "string",
        value: "DURATION",
        description:
          "how long a disconnected worker keeps its session and leases before its steps count as lost (default 30s)",
      },
      {
        name: "runs-nice",
        type: "string",
        value: "N",
        description:
          "the nice value (0 to 19) of the thread that executes the server's runs and of the local steps it starts, which inherit it: under contention for the CPU, answering calls goes first (default 5; 0 keeps them at the server's own priority)",
      },
      {
        name: "pass-env",
        type: "list",
        value: "NAME",
        description:
          "an environment variable of this server passed to steps placed on remote workers (repeatable); nothing else of its environment is sent",
      },
    ],
    examples: [
      "swamp serve",
      "swamp serve --listen 0.0.0.0:7870 --tls-self-signed",
      "swamp serve --tls-cert cert.pem --tls-key key.pem --json",
    ],
    json:
      `{"event": "listening", "time": "…", "url": "https://127.0.0.1:7870", "fingerprint": "sha256:9f86…", "instance": "…", "repo": "/home/me/ops", "pid": 4242, "selfSigned": true}`,
    load: () => import("./commands/serve.ts"),
  },
  {
    noun: "auth",
    verb: "token create",
    summary: "mint an API token; its secret is shown exactly once",
    description:
      "Creates an API token with a role (viewer < operator < approver < admin; each allows what the ones before it allow) and a lifetime (default 30 days). Prints the bearer credential NAME.SECRET on stdout, once: only a hash of the secret is stored. Locally this writes the repository's store as your OS account; with --server it needs an admin token.",
    args: [{
      name: "NAME",
      required: true,
      description:
        "lower-case letters, digits and dashes, at most 64 characters; becomes the actor of what the token does",
    }],
    flags: [
      {
        name: "role",
        type: "string",
        value: "ROLE",
        choices: ["viewer", "operator", "approver", "admin"],
        description: "what the token may do",
      },
      {
        name: "duration",
        type: "string",
        value: "DURATION",
        description: "how long it is valid, e.g. 8h or 90d (default 30d)",
      },
    ],
    examples: [
      "swamp auth token create ci --role operator --duration 90d",
      "export SWAMP_TOKEN=$(swamp auth token create ada --role approver -q)",
    ],
    json: `{"token": ${tokenJson}, "credential": "ci.Zm9v…"}`,
    load: () => import("./commands/auth_token_create.ts"),
  },
  {
    noun: "auth",
    verb: "token list",
    summary: "list API tokens with their role and state",
    description:
      "Lists every API token: name, role, state (active, expired, revoked), when it expires or was revoked, and who created it. Never shows a secret or a hash.",
    args: [],
    flags: [],
    examples: ["swamp auth token list", "swamp auth token list --json"],
    json: `{"tokens": [${tokenJson}]}`,
    load: () => import("./commands/auth_token_list.ts"),
  },
  {
    noun: "auth",
    verb: "token revoke",
    summary: "revoke an API token at once",
    description:
      "Revokes a token: the server refuses it from the next request on. The name stays taken, so the history of what it did stays unambiguous. Revoking a revoked token changes nothing and says so.",
    args: [{ name: "NAME", required: true, description: "the token's name" }],
    flags: [],
    examples: ["swamp auth token revoke ci"],
    json: `{"token": ${tokenJson.replace("ACTIVE", "REVOKED")}, "changed": true}`,
    load: () => import("./commands/auth_token_revoke.ts"),
  },
  {
    noun: "auth",
    verb: "whoami",
    summary: "show who you act as: your OS account locally, your token through a server",
    description:
      "Prints the principal your commands act as and its role. Locally that is the OS account running the command (role admin over a repository it can write); with --server it is the API token you present.",
    args: [],
    flags: [],
    examples: [
      "swamp auth whoami",
      "swamp auth whoami --server https://127.0.0.1:7870 --pin sha256:…",
    ],
    json: `{"name": "ci", "kind": "token", "role": "operator"}`,
    load: () => import("./commands/auth_whoami.ts"),
  },
];
