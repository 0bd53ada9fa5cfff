import type { Executor } from "../ports/executor.ts";
import type { Clock } from "../ports/clock.ts";
import type { IdSource } from "../ports/ids.ts";
import type { ExpressionEvaluator } from "../ports/expressions.ts";
import type { ExtensionInspector } from "../ports/extension_schemas.ts";
import type { RunStore } from "../ports/store.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { RepoLocator } from "./locator.ts";
import type { ChangeFeed } from "./change_feed.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { NewRun } from "../run/create.ts";

/** What the in-process RunService needs from the composition root. */
export interface RunServiceEnv {
  locator: RepoLocator;
  /** The repository's store (file or SQLite, as its .swamp.yaml says). */
  openStore(root: string): Promise<RunStore>;
  /**
   * Every registered executor by name (built-ins and the repository's extensions/executors/),
   * for validation and to end what an abandoned run's steps left behind (loaded on first use).
   */
  executors(): Promise<ReadonlyMap<string, Executor>>;
  /**
   * Starts a supervisor process for a run, in its own session, and returns
   * once it is spawned: with the process to watch until it has claimed the
   * run, or nothing when the run is handed to this process (a server).
   * `resumeInputs` reach it privately (never written down).
   */
  launchSupervisor(
    root: string,
    runId: string,
    options?: { resumeInputs?: Record<string, unknown> },
  ): Promise<LaunchedSupervisor | void>;
  /**
   * Creates the run and hands it to whatever executes it, in one step; when
   * absent, the run is created here and `launchSupervisor` starts it. A
   * server whose runs execute on a thread of their own creates them there:
   * that thread then writes every run, and does not read back what it made.
   */
  startRun?(spec: NewRun): Promise<Run>;
  /**
   * The run a supervisor waiting for the repository's next run already
   * created for this request (the CLI hands it over before it loads, decision
   * 0032), with that supervisor to watch until it claims the run; undefined
   * when none took it. Throws the error creating the run gave there.
   */
  submittedAhead?(
    request: { workflow?: string; inputs?: unknown; detach?: boolean },
  ): Promise<{ run: Run; launched: LaunchedSupervisor } | undefined>;
  /** Reads extension modules' schemas; without it, extension types are not checked. */
  extensions?: ExtensionInspector;
  /** The CEL sandbox, started on first use (validation checks expressions with it). */
  expressions?: () => ExpressionEvaluator;
  clock: Clock;
  ids: IdSource;
  /**
   * Wakes followers when a writer in this process changes a run (a server),
   * and, connected to the store (connectFeed), when any process does. Absent:
   * the store's own feed when it has subscribe(), else followers poll.
   */
  changes?: ChangeFeed;
  /** How long a follower waits before reading the store anyway (see followPollMs). */
  followPollMs?: number;
}

/** A supervisor process as the command that started it sees it. */
export interface LaunchedSupervisor {
  /**
   * Settles when the process has exited: `failed` is how, in words
   * ("exited with status 1", "was killed by SIGKILL"), or undefined when it
   * exited with status 0.
   */
  exited: Promise<{ failed?: string }>;
  /** Its command line: run by hand, it shows what stops it before it can log anything. */
  command: string;
  /** Stops watching it, so this process may exit while it runs on. */
  release(): void;
}

/** The full id of the run that `idOrPrefix` names; errors when none or several match. */
/** Run ids are UUIDs (runtime/ports/ids.ts): one of them is never a prefix of another. */
const wholeRunId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function resolveRunId(store: RunStore, idOrPrefix: string): Promise<string> {
  const wanted = idOrPrefix.trim().toLowerCase();
  if (wanted.length < 4) {
    throw new SwampError(ErrorCode.USAGE, `run id prefix \`${idOrPrefix}\` is too short`, {
      hint: "give at least 4 characters of the run id",
    });
  }
  // A whole id names one run whatever else exists: the store's load says whether it does.
  if (wholeRunId.test(wanted)) return wanted;
  const matches = await store.findRunIds(wanted, 6);
  if (matches.length === 0) {
    throw new SwampError(ErrorCode.NOT_FOUND, `no run with id ${idOrPrefix}`, {
      hint: "list runs with `swamp workflow list`",
    });
  }
  if (matches.length > 1 && !matches.includes(wanted)) {
    throw new SwampError(
      ErrorCode.AMBIGUOUS,
      `${idOrPrefix} matches several runs: ${matches.slice(0, 5).join(", ")}`,
      {
        hint: "give more characters of the run id",
      },
    );
  }
  return matches.includes(wanted) ? wanted : matches[0];
}
