// The `worker` commands of the command table (see spec.ts): enrollment tokens,
// the worker process itself, and the workers as the orchestrator sees them.
import type { CommandSpec } from "./types.ts";

const tokenJson =
  `{"name": "gpu-box", "labels": {"gpu": "true"}, "createTime": "2026-12-04T09:00:00Z", "expireTime": "2026-12-04T17:00:00Z", "state": "unused", "effectiveState": "unused", "createdBy": "ada"}`;

const enrolledJson =
  `{"name": "gpu-box", "labels": {"gpu": "true"}, "createTime": "2026-12-04T09:00:00Z", "expireTime": "2026-12-04T17:00:00Z", "revokeTime": "2026-12-04T12:30:00Z", "boundMachineId": "5b0e…", "enrollTime": "2026-12-04T09:05:12Z", "state": "revoked", "effectiveState": "revoked", "createdBy": "ada"}`;

export const workerCommands: CommandSpec[] = [
  {
    noun: "worker",
    verb: "token create",
    summary: "mint a worker enrollment token; its secret is shown exactly once",
    description:
      "Creates an enrollment token for one remote worker machine: a name, labels the worker enrolled with it carries, and a lifetime that is a hard deadline (default 8h). Prints the credential NAME.SECRET on stdout, once: only a hash of the secret is stored. The worker presents it with `swamp worker connect URL --token NAME.SECRET`; on its first use the token binds to that machine, and any other machine is refused (bound_to_other_machine). Worker token names are apart from API token names. Locally this writes the repository's store as your OS account; with --server it needs an admin token.",
    args: [{
      name: "NAME",
      required: true,
      description: "lower-case letters, digits and dashes, at most 64 characters",
    }],
    flags: [
      {
        name: "duration",
        type: "string",
        value: "DURATION",
        description: "how long it is valid, a hard deadline, e.g. 8h or 30d (default 8h)",
      },
      {
        name: "label",
        type: "list",
        value: "KEY=VALUE",
        description: "a label the enrolled worker carries (placement selects workers by label)",
      },
    ],
    examples: [
      "swamp worker token create gpu-box --duration 8h --label gpu=true",
      "swamp worker token create ci-runner --duration 30d --label pool=ci --label arch=arm64 -q",
    ],
    json: `{"token": ${tokenJson}, "credential": "gpu-box.Zm9v…"}`,
    load: () => import("./commands/worker_token_create.ts"),
  },
  {
    noun: "worker",
    verb: "token list",
    summary: "list worker enrollment tokens: state, expiry and the machine each is bound to",
    description:
      "Lists every worker enrollment token: its effective state now (unused, enrolled, expired, revoked), the state recorded by its last change, when it expires, the machine it is bound to (empty until its first use) and its labels. Never shows a secret or a hash. With --server it needs an operator token.",
    args: [],
    flags: [],
    examples: ["swamp worker token list", "swamp worker token list --json"],
    json: `{"tokens": [${tokenJson}]}`,
    load: () => import("./commands/worker_token_list.ts"),
  },
  {
    noun: "worker",
    verb: "token revoke",
    summary: "revoke a worker enrollment token at once",
    description:
      "Revokes an enrollment token: it is refused from now on (token_revoked), whether or not a machine enrolled with it. The name stays taken, so the history of what it did stays unambiguous. Revoking a revoked token changes nothing and says so. With --server it needs an admin token.",
    args: [{ name: "NAME", required: true, description: "the token's name" }],
    flags: [],
    examples: ["swamp worker token revoke gpu-box"],
    json: `{"token": ${enrolledJson}, "changed": true}`,
    load: () => import("./commands/worker_token_revoke.ts"),
  },
  {
    noun: "worker",
    verb: "connect",
    summary: "run a worker: dial a `swamp serve` and run the steps it assigns",
    description:
      "Dials the orchestrator at URL over one long-lived HTTP/2 stream (TLS with --ca-cert or --pin as for --server), presents the enrollment token, and runs the steps assigned to it with its executors, at most --concurrency at a time, streaming their output and exit back. It offers the executors --executor names (default loopback: local processes); with docker, a placed step whose `executor:` is `{type: docker, …}` runs in a container on this machine's Docker engine (--docker-host, else DOCKER_HOST, else /var/run/docker.sock), which must answer when the worker starts (else executor_unavailable, exit 7). The orchestrator sends a worker only steps whose executor it offers. On its first use the token binds to this machine: the machine id kept in --cache-dir (default $XDG_STATE_HOME/swamp/worker, else ~/.local/state/swamp/worker, which survives restarts). A new cache dir is a new machine: the token refuses it (bound_to_other_machine). The worker reconnects with backoff when the connection drops or the server restarts, resuming its session and resending what the orchestrator had not acknowledged (unless --no-reconnect). Given several URLs (instances of `swamp serve` sharing a PostgreSQL store), it connects to every one of them, so each can place steps on it; it runs at most --concurrency steps over all of them (a step assigned while it is full waits on the worker for a slot), and tells each how busy it is for the others. An instance that takes over a dead instance's run asks the worker to report that run's steps to it instead (adopted), so they keep running (docs/guides/ha.md). A refusal (token_invalid, token_expired, token_revoked, bound_to_other_machine, already_connected, protocol_mismatch, pin_mismatch, usage, unauthenticated, permission_denied) is printed with its cause and fix, running steps are cancelled, and the worker exits with that code's exit status (8; usage 2) without retrying: docs/remote/operations.md#troubleshooting lists each. Cut off from the orchestrator for its grace window less one heartbeat, it stops the steps it runs (fenced), since the orchestrator is about to send them elsewhere. On start it ends the steps a previous worker process of the same cache dir left running (reaped). Connecting to a URL gives whoever answers there the power to run commands on this machine: connect only to an orchestrator you trust, over TLS, with --pin or --ca-cert. SIGTERM or Ctrl-C: takes no new steps, lets running ones finish (cancelling them after 30s), exits 0. With --json, prints one JSON line per lifecycle event (reaped, connected, assigned, adopted, cancel, killed, finished, renewed, silent, fenced, drained, disconnected, refused, draining, stopped); with several URLs, connected, disconnected, silent, drained and refused name the instance in `server`.",
    args: [{
      name: "URL",
      required: true,
      description:
        "the orchestrator's URL, as `swamp serve` printed it; or every instance's URL of one PostgreSQL store, comma-separated: it connects to each",
    }],
    flags: [
      {
        name: "token",
        type: "string",
        value: "NAME.SECRET",
        description:
          "the enrollment token `swamp worker token create` printed (also SWAMP_WORKER_TOKEN, which keeps it out of the process list)",
      },
      {
        name: "label",
        type: "list",
        value: "KEY=VALUE",
        description: "a label this worker adds (the token's labels win on a clash)",
      },
      {
        name: "executor",
        type: "list",
        value: "NAME[,NAME]",
        description:
          "an executor this worker offers: loopback or docker (repeatable or comma-separated; default loopback alone)",
      },
      {
        name: "docker-host",
        type: "string",
        value: "SOCKET",
        description:
          "the Docker engine's socket for docker steps, unix:///PATH or /PATH (default DOCKER_HOST, else /var/run/docker.sock)",
      },
      {
        name: "cache-dir",
        type: "string",
        value: "DIR",
        description:
          "this machine's identity to the orchestrator: the machine id its token binds to, records of running steps and their scratch directories (default $XDG_STATE_HOME/swamp/worker, else ~/.local/state/swamp/worker); a new one is a new machine",
      },
      {
        name: "name",
        type: "string",
        value: "NAME",
        description: "the worker's name in `worker list` and placement (default: the token's name)",
      },
      {
        name: "concurrency",
        type: "string",
        value: "N",
        description: "how many steps it runs at once, 1 to 1024 (default 1)",
      },
      {
        name: "ca-cert",
        type: "string",
        value: "FILE",
        description: "trust this CA (or self-signed) certificate for the server",
      },
      {
        name: "pin",
        type: "string",
        value: "sha256:HEX",
        description: "accept only a server certificate with this SHA-256 fingerprint",
      },
      {
        name: "no-reconnect",
        type: "boolean",
        description:
          "exit when the connection drops instead of reconnecting: running steps are cancelled first, and the exit status is the error's (0 when the orchestrator ended the stream)",
      },
    ],
    examples: [
      "swamp worker connect https://orchestrator:7870 --token gpu-box.Zm9v… --pin sha256:9f86…",
      "swamp worker connect https://10.0.0.5:7870 --token ci-1.Zm9v… --ca-cert ca.pem --label pool=ci --concurrency 4 --json",
      "swamp worker connect https://10.0.0.5:7870 --token box-1.Zm9v… --ca-cert ca.pem --executor loopback,docker",
    ],
    json:
      `{"event": "connected", "time": "…", "workerId": "w-3f2a9c0b1d4e", "sessionId": "…", "resumed": false, "server": "https://127.0.0.1:7870", "protocolVersion": 3, "labels": {"gpu": "true"}, "executors": ["loopback", "docker"], "expireTime": "2026-12-04T17:00:00.000Z"}`,
    load: () => import("./commands/worker_connect.ts"),
  },
  {
    noun: "worker",
    verb: "list",
    summary: "list the workers the orchestrator knows: state, labels, running steps",
    description:
      "Lists the workers of the orchestrator: connected, draining, or disconnected and still within the grace window (--worker-grace of `swamp serve`), with their id, labels (the token's and the worker's), the executors they offer (placement sends a worker only steps that run with one of them), running steps against their concurrency (a worker connected to several instances of one store also counts what it runs for the others: `2/2 (1 elsewhere)`, `runningElsewhere` in --json), protocol version and when they were last heard from. With --server it asks that server (viewer token); without, it reads the list the running `swamp serve` of the repository publishes (at once when a worker comes, goes or changes state; last-heard times up to 30 s old), and shows none when no server runs.",
    args: [],
    flags: [],
    examples: ["swamp worker list", "swamp worker list --json --server https://127.0.0.1:7870"],
    json:
      `{"workers": [{"id": "w-3f2a9c0b1d4e", "name": "gpu-box", "state": "connected", "labels": {"gpu": "true"}, "running": ["5f0c…/build.compile"], "concurrency": 2, "protocolVersion": 3, "softwareVersion": "0.1.0", "lastSeenTime": "…", "connectTime": "…", "tokenName": "gpu-box", "executors": ["loopback", "docker"]}]}`,
    load: () => import("./commands/worker_list.ts"),
  },
  {
    noun: "worker",
    verb: "drain",
    summary: "stop new steps going to a worker; the ones it runs finish",
    description:
      "Marks a worker draining: the orchestrator assigns it no new steps and tells it so; steps it runs finish as usual. The worker stays connected (stop it with SIGTERM when it is idle). A worker connected to several instances of one store tells every one of them it is draining, so a drain through any instance drains it everywhere. Draining a draining worker changes nothing and says so. Needs the server (--server, operator token).",
    args: [{ name: "WORKER", required: true, description: "the worker's name or id" }],
    flags: [],
    examples: ["swamp worker drain gpu-box --server https://127.0.0.1:7870"],
    json:
      `{"worker": {"id": "w-3f2a9c0b1d4e", "name": "gpu-box", "state": "draining", "labels": {"gpu": "true"}, "running": [], "concurrency": 2, "protocolVersion": 3, "softwareVersion": "0.1.0", "lastSeenTime": "…", "connectTime": "…", "tokenName": "gpu-box", "executors": ["loopback"]}, "changed": true}`,
    load: () => import("./commands/worker_drain.ts"),
  },
];
