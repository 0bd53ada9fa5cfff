// The enrollment-token half of WorkerService, in process: mint (the secret is
// returned once, only its hash is stored), list, revoke.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CreateWorkerTokenResponseSchema,
  ListWorkerTokensResponseSchema,
  RevokeWorkerTokenResponseSchema,
  type WorkerService,
  type WorkerToken,
  WorkerTokenSchema,
  WorkerTokenState,
} from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { WorkerTokenExists, type WorkerTokenStore } from "../ports/worker_tokens.ts";
import type { CallContext, ServiceImpl } from "./call_context.ts";
import { maxTokenSeconds, newSecret, secretHash, tokenNamePattern } from "./token_secret.ts";
import { checkLabels } from "./worker_labels.ts";

/** How long an enrollment token lives when the request names no duration: eight hours. */
export const defaultWorkerTokenSeconds = 8 * 3600;

/**
 * The token's state at `now`: revoked wins over expired, which wins over the
 * recorded state (unused, or enrolled once a machine redeemed it).
 */
export function workerTokenState(token: WorkerToken, now: Date): WorkerTokenState {
  if (token.revokeTime || token.state === WorkerTokenState.REVOKED) {
    return WorkerTokenState.REVOKED;
  }
  if (token.expireTime && timestampDate(token.expireTime) <= now) return WorkerTokenState.EXPIRED;
  if (token.state === WorkerTokenState.ENROLLED || token.boundMachineId !== "") {
    return WorkerTokenState.ENROLLED;
  }
  return token.state === WorkerTokenState.UNSPECIFIED ? WorkerTokenState.UNUSED : token.state;
}

/** `token` with its effective state at `now`. */
export function withEffectiveState(token: WorkerToken, now: Date): WorkerToken {
  return create(WorkerTokenSchema, { ...token, effectiveState: workerTokenState(token, now) });
}

export type TokenMethods = Pick<
  ServiceImpl<typeof WorkerService>,
  "createWorkerToken" | "listWorkerTokens" | "revokeWorkerToken"
>;

/** The in-process enrollment-token RPCs of WorkerService over a repository's store. */
export function localWorkerTokens(
  store: () => Promise<WorkerTokenStore>,
  clock: Clock,
): TokenMethods {
  return {
    async createWorkerToken(request, ctx: CallContext) {
      const name = request.name ?? "";
      if (!tokenNamePattern.test(name)) {
        throw new SwampError(ErrorCode.USAGE, `\`${name}\` is not a valid worker token name`, {
          hint: "use lower-case letters, digits and dashes, at most 64 characters",
        });
      }
      const labels = { ...request.labels };
      checkLabels(labels);
      const seconds = Number(request.durationSeconds ?? 0n) || defaultWorkerTokenSeconds;
      if (seconds > maxTokenSeconds) {
        throw new SwampError(ErrorCode.USAGE, "a worker token may live at most 10 years", {
          hint: "give a shorter --duration, e.g. 8h or 30d",
        });
      }
      const now = clock.now();
      const token = create(WorkerTokenSchema, {
        name,
        labels,
        createTime: timestampFromDate(now),
        expireTime: timestampFromDate(new Date(now.getTime() + seconds * 1000)),
        state: WorkerTokenState.UNUSED,
        createdBy: ctx.principal.name,
      });
      const secret = newSecret();
      try {
        await (await store()).createWorkerToken({ token, secretHash: await secretHash(secret) });
      } catch (error) {
        if (!(error instanceof WorkerTokenExists)) throw error;
        throw new SwampError(
          ErrorCode.ALREADY_EXISTS,
          `a worker token named ${name} already exists`,
          { hint: "pick another name; names stay taken after a revoke so history stays readable" },
        );
      }
      return create(CreateWorkerTokenResponseSchema, {
        token: withEffectiveState(token, now),
        credential: `${name}.${secret}`,
      });
    },

    async listWorkerTokens() {
      const now = clock.now();
      const records = await (await store()).listWorkerTokens();
      return create(ListWorkerTokensResponseSchema, {
        tokens: records.map((record) => withEffectiveState(record.token, now)),
      });
    },

    async revokeWorkerToken(request) {
      const now = clock.now();
      const result = await (await store()).revokeWorkerToken(request.name ?? "", now);
      if (!result) {
        throw new SwampError(ErrorCode.NOT_FOUND, `no worker token named ${request.name}`, {
          hint: "list them with `swamp worker token list`",
        });
      }
      return create(RevokeWorkerTokenResponseSchema, {
        token: withEffectiveState(result.record.token, now),
        changed: result.changed,
      });
    },
  };
}
