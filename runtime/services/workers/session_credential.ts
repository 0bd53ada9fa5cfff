// What proves that a hello resuming a session comes from the worker process
// that holds it. The session id cannot: it is no secret (the worker logs it),
// and the enrollment token and machine id sit on the worker's disk, readable
// by any process there. The session credential is drawn by the hub, sent
// only on the session's own stream, and kept only in the worker's memory, so
// a restarted (or impostor) process cannot take over a live session's leases.
// The hub keeps only hashes, like every other secret it checks.
import type { WorkerHello } from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import { newSecret, sameDigest, secretHash } from "../token_secret.ts";
import type { HubEvent } from "./types.ts";

// What this file needs of a session and its stream, named here rather than
// imported: session.ts holds a SessionCredential, so importing it back would
// be a cycle.
interface RenewalChannel {
  readonly closed: boolean;
  send(kind: { case: "sessionRenewal"; value: { sessionCredential: string } }): void;
}

interface CredentialSession {
  readonly id: string;
  readonly name: string;
  readonly sessionId: string;
  readonly credential: SessionCredential;
  readonly channel?: RenewalChannel;
}

/**
 * Whether `hello` resumes `existing`: `kept` is the hash of the credential it
 * presented when that is the session's; `mismatch` is the event to log when it
 * named the session but not with its credential (treated as another process).
 */
export async function resumeCheck(
  existing: CredentialSession | undefined,
  hello: WorkerHello,
): Promise<{ kept?: string; mismatch?: HubEvent }> {
  if (!existing || hello.sessionId !== existing.sessionId) return {};
  const kept = await existing.credential.match(hello.sessionCredential);
  if (kept) return { kept };
  return {
    mismatch: {
      event: "worker_session_mismatch",
      workerId: existing.id,
      name: existing.name,
      reason: hello.sessionCredential
        ? "the hello named the session with a session credential that is not its own"
        : "the hello named the session without a session credential",
    },
  };
}

/** A new credential: the secret, sent once to the worker, and the hash the hub keeps. */
export interface Drawn {
  secret: string;
  hash: string;
}

/** 32 random bytes, base64url, and their SHA-256. */
export async function drawCredential(): Promise<Drawn> {
  const secret = newSecret();
  return { secret, hash: await secretHash(secret) };
}

export class SessionCredential {
  #current = "";
  /** Still valid: a renewal (or welcome) lost with a dropped stream must not strand the worker. */
  #previous = "";
  #issuedAt = 0;
  #renewing = false;

  /**
   * The hash of `presented` when it is the current or the previous
   * credential, else undefined. Both hashes are always compared, so the time
   * taken does not say which one matched.
   */
  async match(presented: string): Promise<string | undefined> {
    if (!presented || !this.#current) return undefined;
    const hash = await secretHash(presented);
    const current = sameDigest(hash, this.#current);
    const previous = this.#previous !== "" && sameDigest(hash, this.#previous);
    return current || previous ? hash : undefined;
  }

  /**
   * Makes `fresh` (see drawCredential) current; `kept` (the hash a resuming
   * hello presented) stays valid beside it, since the worker holds that one
   * until the welcome reaches it. Synchronous, so the hub admits a hello
   * without a pause between checking it and taking the session over.
   */
  adopt(fresh: Drawn, now: Date, kept?: string): void {
    this.#adopt(fresh.hash, now, kept ?? this.#current);
  }

  /**
   * Sends the session a SessionRenewal when its credential is older than
   * `everyMs`. Checked on heartbeats: a connected worker sends them anyway.
   */
  renewIfDue(
    session: CredentialSession,
    now: Date,
    everyMs: number,
    renewed?: () => void,
  ): void {
    if (this.#renewing || now.getTime() - this.#issuedAt < everyMs) return;
    const channel = session.channel;
    if (!channel) return;
    this.#renewing = true;
    void this.#renew(session, channel, now, renewed).finally(() => this.#renewing = false);
  }

  async #renew(
    session: CredentialSession,
    channel: RenewalChannel,
    now: Date,
    renewed?: () => void,
  ): Promise<void> {
    const { secret, hash } = await drawCredential();
    // A stream that ended meanwhile would lose the renewal while the hub counted it as
    // given: the worker's credential would then fall out of the two kept.
    if (session.channel !== channel || channel.closed) return;
    this.#adopt(hash, now, this.#current);
    channel.send({ case: "sessionRenewal", value: { sessionCredential: secret } });
    renewed?.();
  }

  #adopt(hash: string, now: Date, previous: string): void {
    this.#previous = previous;
    this.#current = hash;
    this.#issuedAt = now.getTime();
  }
}
