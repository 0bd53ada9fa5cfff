// What the server thread and its run thread say to each other.
export type ToWorker =
  | { kind: "init"; root: string; instance: string }
  | { kind: "supervise"; runId: string; resumeInputs?: Record<string, unknown> }
  | { kind: "poke" }
  | { kind: "stop" };

export type ToServer =
  | { kind: "changed"; runId: string; events: Uint8Array[]; lines: Uint8Array[] }
  | { kind: "settled"; runId: string; error?: string }
  | { kind: "stopped" };
