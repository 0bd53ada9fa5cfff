// One orchestrator instance a worker is connected to, or dialling: its
// session, its timers and its outbox. A worker given several instances of one
// store (decision 0031) holds a link to each; every lease reports on one link
// (the one that assigned it, or that took its run over since).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type AttachRequest,
  AttachRequestSchema,
} from "../../proto/gen/swamp/v1/worker_channel_pb.ts";
import type { EventQueue } from "../../runtime/mod.ts";

export class Link {
  /** Set while a welcomed stream is open. */
  outbox?: EventQueue<AttachRequest>;
  sessionId = "";
  /**
   * What proves a reconnect comes from this process (the session id is no
   * secret). Only ever in memory: a restarted process starts a new session.
   */
  sessionCredential = "";
  heartbeatMs = 5000;
  graceMs = 30_000;
  /** When the instance last said anything (0: never welcomed). */
  lastHeard = 0;
  fenceTimer?: ReturnType<typeof setTimeout>;
  /** The protocol version of the open (or last) session. */
  protocol = 0;
  /** The load last reported on this session (protocol 3), -1 for none yet. */
  loadSent = -1;

  constructor(readonly url: URL) {}

  push(kind: MessageInitShape<typeof AttachRequestSchema>["kind"]): void {
    this.outbox?.push(create(AttachRequestSchema, { kind }));
  }
}
