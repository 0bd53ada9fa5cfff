// Redeeming an enrollment token: what the orchestrator does when a worker
// presents `NAME.SECRET` with the machine id it keeps in its cache dir.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { WorkerToken } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import type { WorkerTokenRefusal, WorkerTokenStore } from "../ports/worker_tokens.ts";
import { sameDigest, secretHash } from "./token_secret.ts";
import { withEffectiveState } from "./worker_tokens.ts";

const newToken = "ask an admin for a new one (swamp worker token create NAME)";

/** The error a worker is refused (or disconnected) with for `reason`; names nothing secret. */
export function workerTokenRefusal(reason: WorkerTokenRefusal, token: WorkerToken): SwampError {
  const name = token.name;
  switch (reason) {
    case "token_revoked":
      return new SwampError(ErrorCode.TOKEN_REVOKED, `worker token ${name} was revoked`, {
        hint: newToken,
      });
    case "token_expired": {
      const at = token.expireTime ? timestampDate(token.expireTime).toISOString() : "";
      return new SwampError(ErrorCode.TOKEN_EXPIRED, `worker token ${name} expired at ${at}`, {
        hint: newToken,
      });
    }
    case "bound_to_other_machine":
      return new SwampError(
        ErrorCode.BOUND_TO_OTHER_MACHINE,
        `worker token ${name} is bound to another machine`,
        {
          hint: "a token enrolls one machine: on that machine, start the worker with the " +
            "--cache-dir it used before; for this machine, " + newToken,
        },
      );
  }
}

/**
 * Checks `credential` (`NAME.SECRET`) against the stored hash and binds the
 * token to `machineId` (a compare-and-set in the store: the first machine
 * wins, later redemptions from it are accepted, any other machine is
 * refused). Returns the token with its effective state. Every refusal is one
 * stable code: token_invalid (malformed, unknown name or wrong secret, the
 * same answer for both so names cannot be probed), token_revoked,
 * token_expired or bound_to_other_machine; none names the secret or the
 * machine the token is bound to.
 */
export async function redeemWorkerToken(
  store: WorkerTokenStore,
  credential: string,
  machineId: string,
  clock: Clock,
): Promise<WorkerToken> {
  const match = /^([^\s.]+)\.(\S+)$/.exec(credential.trim());
  if (!match) {
    throw new SwampError(ErrorCode.TOKEN_INVALID, "the enrollment token is not NAME.SECRET", {
      hint: "pass the NAME.SECRET that `swamp worker token create` printed",
    });
  }
  if (machineId === "") throw new SwampError(ErrorCode.USAGE, "a worker needs a machine id");
  const [, name, secret] = match;
  const record = await store.getWorkerToken(name);
  if (!record || !sameDigest(record.secretHash, await secretHash(secret))) {
    throw new SwampError(ErrorCode.TOKEN_INVALID, `worker token ${name} is not valid here`, {
      hint: `check the token; ${newToken}`,
    });
  }
  const now = clock.now();
  const binding = await store.bindWorkerToken(name, machineId, now);
  // Gone between the read and the bind: only a store wiped meanwhile does that.
  if (!binding) {
    throw new SwampError(ErrorCode.TOKEN_INVALID, `worker token ${name} is not valid here`, {
      hint: newToken,
    });
  }
  if (!binding.bound) throw workerTokenRefusal(binding.refusal, record.token);
  return withEffectiveState(binding.record.token, now);
}

/**
 * The refusal a connected worker is disconnected with when its token (read
 * from the store now) was revoked or has expired; undefined while it is valid
 * or cannot be read.
 */
export async function liveTokenRefusal(
  tokens: WorkerTokenStore,
  identity: { tokenName: string },
  now: Date,
): Promise<SwampError | undefined> {
  const record = await tokens.getWorkerToken(identity.tokenName).catch(() => undefined);
  if (!record) return undefined;
  const token = record.token;
  const reason = token.revokeTime
    ? "token_revoked"
    : !token.expireTime || timestampDate(token.expireTime) <= now
    ? "token_expired"
    : undefined;
  return reason ? workerTokenRefusal(reason, token) : undefined;
}
