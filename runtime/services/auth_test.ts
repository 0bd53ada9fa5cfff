import { tempFileStore } from "../../test/helpers/stores.ts";
import { assert, assertEquals, assertRejects } from "../../test/helpers/mod.ts";
import { ApiTokenState } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { localAuthService } from "./auth_service.ts";
import { authenticate } from "./authenticate.ts";
import { ActorKind, type CallContext, Role } from "./call_context.ts";
import { authorize, requiredRoles } from "./roles.ts";

class StepClock implements Clock {
  constructor(public time = Date.parse("2026-12-04T09:00:00Z")) {}
  now(): Date {
    return new Date(this.time);
  }
}

const adminCall: CallContext = {
  principal: { name: "ada", kind: ActorKind.OS_USER, role: Role.ADMIN },
  signal: new AbortController().signal,
};

const refusal = (code: ErrorCode, fragment: string) => (error: unknown) =>
  error instanceof SwampError && error.code === code && error.message.includes(fragment);

Deno.test("tokens: minted once, authenticated by hash, refused when wrong, revoked or expired", async () => {
  await using temp = await tempFileStore();
  const clock = new StepClock();
  const auth = localAuthService(() => Promise.resolve(temp.store), clock);
  const minted = await auth.createToken(
    { name: "ci", role: Role.OPERATOR, durationSeconds: 3600n },
    adminCall,
  );
  const [name, secret] = minted.credential.split(".");
  assertEquals(name, "ci");
  assertEquals(minted.token?.createdBy, "ada");
  assertEquals(minted.token?.state, ApiTokenState.ACTIVE);
  const stored = await temp.store.getApiToken("ci");
  assert(stored, "the token was not stored");
  assert(!stored.secretHash.includes(secret) && stored.secretHash !== secret);
  assertEquals(stored.secretHash.length, 64);

  const principal = await authenticate(temp.store, `Bearer ${minted.credential}`, clock);
  assertEquals(principal, { name: "ci", kind: ActorKind.TOKEN, role: Role.OPERATOR });

  const cases: [string | null, string][] = [
    [null, "carries no API token"],
    ["Basic abc", "not a bearer token"],
    [`Bearer ci.${secret}x`, "token ci is not valid here"],
    [`Bearer nobody.${secret}`, "token nobody is not valid here"],
  ];
  for (const [header, message] of cases) {
    await assertRejects(
      () => authenticate(temp.store, header, clock),
      refusal(ErrorCode.UNAUTHENTICATED, message),
    );
  }
  clock.time += 3600_000;
  await assertRejects(
    () => authenticate(temp.store, `Bearer ${minted.credential}`, clock),
    refusal(ErrorCode.UNAUTHENTICATED, "token ci expired at 2026-12-04T10:00:00.000Z"),
  );
  const listed = await auth.listTokens({}, adminCall);
  assertEquals(listed.tokens.map((t) => t.state), [ApiTokenState.EXPIRED]);

  const other = await auth.createToken({ name: "ops", role: Role.VIEWER }, adminCall);
  await auth.revokeToken({ name: "ops" }, adminCall);
  await assertRejects(
    () => authenticate(temp.store, `Bearer ${other.credential}`, clock),
    refusal(ErrorCode.UNAUTHENTICATED, "token ops was revoked"),
  );
  await assertRejects(
    () => auth.createToken({ name: "ops", role: Role.VIEWER }, adminCall),
    refusal(ErrorCode.ALREADY_EXISTS, "a token named ops already exists"),
  );
  await assertRejects(
    () => auth.createToken({ name: "Bad Name", role: Role.VIEWER }, adminCall),
    refusal(ErrorCode.USAGE, "is not a valid token name"),
  );
  await assertRejects(
    () => auth.createToken({ name: "norole" }, adminCall),
    refusal(ErrorCode.USAGE, "a token needs a role"),
  );
});

Deno.test("roles: each role allows what the ones before it allow, and a refusal names what was missing", () => {
  const as = (role: Role) => ({ name: "t", kind: ActorKind.TOKEN, role });
  authorize(as(Role.VIEWER), "swamp.v1.RunService", "GetRun");
  authorize(as(Role.APPROVER), "swamp.v1.RunService", "SubmitRun");
  authorize(as(Role.ADMIN), "swamp.v1.AuthService", "CreateToken");
  const denied = (() => {
    try {
      authorize(as(Role.OPERATOR), "swamp.v1.RunService", "ApproveStep");
    } catch (error) {
      return error as SwampError;
    }
  })();
  assertEquals(denied?.code, ErrorCode.PERMISSION_DENIED);
  assertEquals(
    denied?.message,
    "token t has role operator; RunService/ApproveStep needs approver or above",
  );
  const unknown = (() => {
    try {
      authorize(as(Role.ADMIN), "swamp.v1.RunService", "DropEverything");
    } catch (error) {
      return error as SwampError;
    }
  })();
  assertEquals(unknown?.code, ErrorCode.PERMISSION_DENIED, "an unlisted method was allowed");
  assert(Object.values(requiredRoles).every((role) => role >= Role.VIEWER));
});
