import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ApiTokenState } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import type { TokenStore } from "../ports/tokens.ts";
import { ActorKind, type Principal } from "./call_context.ts";
import { tokenState } from "./auth_service.ts";
import { sameDigest, secretHash } from "./token_secret.ts";

const howToSend = "send `Authorization: Bearer NAME.SECRET` (the CLI: --token or SWAMP_TOKEN)";

/**
 * The principal an `Authorization` header stands for. Every refusal is
 * `unauthenticated` and names the token when there is one, never its secret.
 */
export async function authenticate(
  store: TokenStore,
  authorization: string | null,
  clock: Clock,
): Promise<Principal> {
  if (!authorization) {
    throw new SwampError(ErrorCode.UNAUTHENTICATED, "the request carries no API token", {
      hint: howToSend,
    });
  }
  const match = /^Bearer\s+([^\s.]+)\.(\S+)$/i.exec(authorization.trim());
  if (!match) {
    throw new SwampError(
      ErrorCode.UNAUTHENTICATED,
      "the Authorization header is not a bearer token of the form NAME.SECRET",
      { hint: howToSend },
    );
  }
  const [, name, secret] = match;
  const record = await store.getApiToken(name);
  // An unknown name and a wrong secret get the same answer, so names cannot be probed.
  if (!record || !sameDigest(record.secretHash, await secretHash(secret))) {
    throw new SwampError(ErrorCode.UNAUTHENTICATED, `token ${name} is not valid here`, {
      hint: "check the token, or ask an admin for a new one (swamp auth token create)",
    });
  }
  const state = tokenState(record.token, clock.now());
  if (state === ApiTokenState.REVOKED) {
    throw new SwampError(ErrorCode.UNAUTHENTICATED, `token ${name} was revoked`, {
      hint: "ask an admin for a new token",
    });
  }
  if (state === ApiTokenState.EXPIRED) {
    const at = timestampDate(record.token.expireTime!).toISOString();
    throw new SwampError(ErrorCode.UNAUTHENTICATED, `token ${name} expired at ${at}`, {
      hint: "ask an admin for a new token",
    });
  }
  return { name, kind: ActorKind.TOKEN, role: record.token.role };
}
