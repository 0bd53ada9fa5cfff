// The worker hub's options (hub.ts), kept apart so the hub stays one concept per file.
import type { Clock } from "../../ports/clock.ts";
import type { LeaseStore } from "../../ports/leases.ts";
import type { WorkerTokenStore } from "../../ports/worker_tokens.ts";
import type { ProtocolRange } from "./protocol.ts";
import type { HubEvent } from "./types.ts";
import type { Placement } from "./placement.ts";

export interface WorkerHubOptions {
  tokens: WorkerTokenStore;
  /** Where leases are kept (the same store as the tokens, in `swamp serve`). */
  leases: LeaseStore;
  clock: Clock;
  /** How often workers send a heartbeat. Default 5 s. */
  heartbeatMs?: number;
  /** How long a disconnected worker keeps its session and leases. Default 30 s. */
  graceMs?: number;
  /** How often tokens, silent streams and grace windows are checked. Default 1 s. */
  tickMs?: number;
  /** The protocol versions the hub speaks (tests narrow it). */
  protocol?: ProtocolRange;
  /** How long a new stream may take to send its hello. Default 10 s. */
  helloTimeoutMs?: number;
  /** How often a connected worker's session credential is renewed. Default 10 min. */
  sessionRenewMs?: number;
  onEvent?(event: HubEvent): void;
  /**
   * On a store several instances share (0027): whether a reconnecting
   * worker's lease of this run, which this hub does not follow, may be parked
   * for adoption (the run's owner instance is dead, or is this one) instead
   * of killed. Absent: never.
   */
  mayAdopt?(runId: string): Promise<boolean>;
  /**
   * On a store several instances share (0027): resolves once the step's end
   * is in its run's record; a worker's exit is acknowledged only then.
   */
  recorded?(runId: string, stepId: string, leaseId: string): Promise<void>;
  /**
   * On a store several instances share: what a queued step's reason adds
   * about fitting workers connected only to other instances (this hub cannot
   * dispatch to them; `here` are the ids of the workers connected to it), or
   * "" when there are none.
   */
  elsewhere?(placement: Placement, here: ReadonlySet<string>): string;
}
