import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ApiToken,
  ApiTokenSchema,
  ApiTokenState,
  type AuthService,
  CreateTokenResponseSchema,
  ListTokensResponseSchema,
  RevokeTokenResponseSchema,
  Role,
  WhoAmIResponseSchema,
} from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import type { TokenStore } from "../ports/tokens.ts";
import { TokenExists } from "../ports/tokens.ts";
import type { ServiceImpl } from "./call_context.ts";
import { maxTokenSeconds, newSecret, secretHash, tokenNamePattern } from "./token_secret.ts";

/** How long a token lives when the request names no duration. */
export const defaultTokenSeconds = 30 * 24 * 3600;

/** The token's state at `now`: revoked wins over expired. */
export function tokenState(token: ApiToken, now: Date): ApiTokenState {
  if (token.revokeTime) return ApiTokenState.REVOKED;
  if (token.expireTime && timestampDate(token.expireTime) <= now) return ApiTokenState.EXPIRED;
  return ApiTokenState.ACTIVE;
}

function withState(token: ApiToken, now: Date): ApiToken {
  return create(ApiTokenSchema, { ...token, state: tokenState(token, now) });
}

/** The in-process AuthService over a repository's token store. */
export function localAuthService(
  store: () => Promise<TokenStore>,
  clock: Clock,
): ServiceImpl<typeof AuthService> {
  return {
    async createToken(request, ctx) {
      const name = request.name ?? "";
      if (!tokenNamePattern.test(name)) {
        throw new SwampError(ErrorCode.USAGE, `\`${name}\` is not a valid token name`, {
          hint: "use lower-case letters, digits and dashes, at most 64 characters",
        });
      }
      const role = request.role ?? Role.UNSPECIFIED;
      if (role === Role.UNSPECIFIED || Role[role] === undefined) {
        throw new SwampError(ErrorCode.USAGE, "a token needs a role", {
          hint: "--role viewer, operator, approver or admin",
        });
      }
      const seconds = Number(request.durationSeconds ?? 0n) || defaultTokenSeconds;
      if (seconds > maxTokenSeconds) {
        throw new SwampError(ErrorCode.USAGE, "a token may live at most 10 years", {
          hint: "give a shorter --duration, e.g. 30d or 8h",
        });
      }
      const now = clock.now();
      const token = create(ApiTokenSchema, {
        name,
        role,
        createTime: timestampFromDate(now),
        expireTime: timestampFromDate(new Date(now.getTime() + seconds * 1000)),
        createdBy: ctx.principal.name,
      });
      const secret = newSecret();
      try {
        await (await store()).createApiToken({ token, secretHash: await secretHash(secret) });
      } catch (error) {
        if (!(error instanceof TokenExists)) throw error;
        throw new SwampError(ErrorCode.ALREADY_EXISTS, `a token named ${name} already exists`, {
          hint: "pick another name; names stay taken after a revoke so history stays readable",
        });
      }
      return create(CreateTokenResponseSchema, {
        token: withState(token, now),
        credential: `${name}.${secret}`,
      });
    },

    async listTokens() {
      const now = clock.now();
      const records = await (await store()).listApiTokens();
      return create(ListTokensResponseSchema, {
        tokens: records.map((record) => withState(record.token, now)),
      });
    },

    async revokeToken(request) {
      const now = clock.now();
      const result = await (await store()).revokeApiToken(request.name ?? "", now);
      if (!result) {
        throw new SwampError(ErrorCode.NOT_FOUND, `no token named ${request.name}`, {
          hint: "list tokens with `swamp auth token list`",
        });
      }
      return create(RevokeTokenResponseSchema, {
        token: withState(result.record.token, now),
        changed: result.changed,
      });
    },

    // deno-lint-ignore require-await
    async whoAmI(_request, ctx) {
      return create(WhoAmIResponseSchema, {
        name: ctx.principal.name,
        kind: ctx.principal.kind,
        role: ctx.principal.role,
      });
    },
  };
}
