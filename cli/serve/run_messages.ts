// What the server thread and its run thread say to each other. Messages cross
// as structured clones: protobuf-es messages are plain objects, and a clone
// costs a fraction of encoding to binary and decoding again.
import type { LogLine, RunEvent } from "../../proto/gen/swamp/v1/event_pb.ts";
import type { Run } from "../../proto/gen/swamp/v1/run_pb.ts";
import type { NewRun, Takeover } from "../../runtime/mod.ts";
import type { HubLink } from "./hub_bridge.ts";

/** An error as it crosses to the other thread: a SwampError's code and hint survive. */
export interface ErrorInfo {
  message: string;
  code?: number;
  hint?: string;
}

export type ToWorker =
  | {
    kind: "init";
    root: string;
    instance: string;
    /** The run thread's end of the worker hub bridge (hub_bridge.ts), when the server has a hub. */
    hub?: HubLink;
    /** The nice value the run thread takes first, and the local steps it starts inherit (0038). */
    nice: number;
  }
  | {
    kind: "supervise";
    runId: string;
    resumeInputs?: Record<string, unknown>;
    /** Taken over from a dead instance (0027), or one that drained and handed it over (0030). */
    takeover?: Takeover;
  }
  /** Create the run, answer `started`, then supervise it. */
  | { kind: "start"; requestId: number; spec: NewRun }
  | { kind: "poke" }
  /** Hand every run over (decision 0030): start nothing new, stop once no local step runs. */
  | { kind: "release" }
  | { kind: "stop" };

export type ToServer =
  | { kind: "changed"; runId: string; events: RunEvent[]; lines: LogLine[] }
  /** The run of a `start`, as created, or why it could not be created. */
  | { kind: "started"; requestId: number; run?: Run; error?: ErrorInfo }
  | { kind: "settled"; runId: string; error?: string }
  /** The run was left running for another instance to take over (decision 0030). */
  | { kind: "released"; runId: string }
  /** Something the run thread could not do and will try again (the server reports it). */
  | { kind: "error"; where: string; error: string }
  | { kind: "stopped" };
