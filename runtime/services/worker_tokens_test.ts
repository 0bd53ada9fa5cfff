import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { tempFileStore } from "../../test/helpers/stores.ts";
import { assert, assertEquals, assertRejects } from "../../test/helpers/mod.ts";
import { AuthService } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { RepoService } from "../../proto/gen/swamp/v1/repo_service_pb.ts";
import { RunService } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import {
  WorkerService,
  WorkerTokenSchema,
  WorkerTokenState,
} from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { CapabilityService } from "../../proto/gen/swamp/v1/capability_service_pb.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import type { Clock } from "../ports/clock.ts";
import { ActorKind, type CallContext, Role } from "./call_context.ts";
import { requiredRoles, selfAuthenticated } from "./roles.ts";
import { redeemWorkerToken } from "./worker_enroll.ts";
import { workerTokenState } from "./worker_tokens.ts";
import { localWorkerService } from "./worker_service.ts";

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

/** A SwampError with `code` whose message has `fragment` and whose text has none of `unsaid`. */
const refusal = (code: ErrorCode, fragment: string, unsaid: string[] = []) => (error: unknown) =>
  error instanceof SwampError && error.code === code && error.message.includes(fragment) &&
  unsaid.every((text) => !`${error.message} ${error.hint}`.includes(text));

const hour = 3_600_000;

Deno.test("worker tokens: minted once with labels and a default of 8 hours; only a hash is stored", async () => {
  await using temp = await tempFileStore();
  const clock = new StepClock();
  const workers = localWorkerService(() => Promise.resolve(temp.store), clock);
  const minted = await workers.createWorkerToken(
    { name: "gpu-box", labels: { gpu: "true", zone: "eu-1" } },
    adminCall,
  );
  const [name, secret] = minted.credential.split(".");
  assertEquals(name, "gpu-box");
  assert(/^[A-Za-z0-9_-]{43}$/.test(secret), minted.credential);
  const token = minted.token!;
  assertEquals(token.labels, { gpu: "true", zone: "eu-1" });
  assertEquals(token.createdBy, "ada");
  assertEquals([token.state, token.effectiveState], [
    WorkerTokenState.UNUSED,
    WorkerTokenState.UNUSED,
  ]);
  assertEquals(token.boundMachineId, "");
  assertEquals(token.enrollTime, undefined);
  assertEquals(timestampDate(token.expireTime!).getTime() - clock.time, 8 * hour);

  const stored = await temp.store.getWorkerToken("gpu-box");
  assert(stored, "the token was not stored");
  assertEquals(stored.secretHash.length, 64);
  assert(!stored.secretHash.includes(secret));
  assertEquals(stored.token.effectiveState, WorkerTokenState.UNSPECIFIED);

  const short = await workers.createWorkerToken({ name: "short", durationSeconds: 90n }, adminCall);
  assertEquals(timestampDate(short.token!.expireTime!).getTime() - clock.time, 90_000);
  const listed = await workers.listWorkerTokens({}, adminCall);
  assertEquals(listed.tokens.map((t) => t.name), ["gpu-box", "short"]);
  assert(
    !JSON.stringify(listed.tokens, (_, v) => typeof v === "bigint" ? `${v}` : v).includes(secret),
  );
});

Deno.test("worker tokens: unused, enrolled by the first machine, refused to others, then expired at the deadline", async () => {
  await using temp = await tempFileStore();
  const clock = new StepClock();
  const workers = localWorkerService(() => Promise.resolve(temp.store), clock);
  const { credential } = await workers.createWorkerToken(
    { name: "edge", durationSeconds: 3600n },
    adminCall,
  );
  const states = async () =>
    (await workers.listWorkerTokens({}, adminCall)).tokens.map((t) => [t.state, t.effectiveState]);
  assertEquals(await states(), [[WorkerTokenState.UNUSED, WorkerTokenState.UNUSED]]);

  clock.time += 60_000;
  const enrolled = await redeemWorkerToken(temp.store, credential, "machine-a", clock);
  assertEquals(enrolled.boundMachineId, "machine-a");
  assertEquals(enrolled.enrollTime && timestampDate(enrolled.enrollTime).getTime(), clock.time);
  assertEquals(await states(), [[WorkerTokenState.ENROLLED, WorkerTokenState.ENROLLED]]);

  // The bound machine comes back (a restart, a reconnect): accepted, nothing changes.
  clock.time += 60_000;
  const again = await redeemWorkerToken(temp.store, credential, "machine-a", clock);
  assertEquals(again.enrollTime, enrolled.enrollTime);
  // The refusal does not say which machine holds the token.
  await assertRejects(
    () => redeemWorkerToken(temp.store, credential, "machine-b", clock),
    refusal(ErrorCode.BOUND_TO_OTHER_MACHINE, "worker token edge is bound to another machine", [
      "machine-a",
    ]),
  );

  // Expiry is a hard deadline: at the expire time exactly, the bound machine is refused too.
  clock.time = Date.parse("2026-12-04T10:00:00Z");
  await assertRejects(
    () => redeemWorkerToken(temp.store, credential, "machine-a", clock),
    refusal(ErrorCode.TOKEN_EXPIRED, "worker token edge expired at 2026-12-04T10:00:00.000Z"),
  );
  assertEquals(await states(), [[WorkerTokenState.ENROLLED, WorkerTokenState.EXPIRED]]);

  // Revoked wins over expired; a revoke is recorded once.
  const revoked = await workers.revokeWorkerToken({ name: "edge" }, adminCall);
  assertEquals(revoked.changed, true);
  assertEquals(revoked.token?.boundMachineId, "machine-a");
  assertEquals(await states(), [[WorkerTokenState.REVOKED, WorkerTokenState.REVOKED]]);
  const twice = await workers.revokeWorkerToken({ name: "edge" }, adminCall);
  assertEquals(twice.changed, false);
  assertEquals(twice.token?.revokeTime, revoked.token?.revokeTime);
});

Deno.test("worker tokens: a revoked token is refused at once, before it ever enrolled", async () => {
  await using temp = await tempFileStore();
  const clock = new StepClock();
  const workers = localWorkerService(() => Promise.resolve(temp.store), clock);
  const { credential } = await workers.createWorkerToken({ name: "lost" }, adminCall);
  await workers.revokeWorkerToken({ name: "lost" }, adminCall);
  await assertRejects(
    () => redeemWorkerToken(temp.store, credential, "machine-a", clock),
    refusal(ErrorCode.TOKEN_REVOKED, "worker token lost was revoked"),
  );
  const [token] = (await workers.listWorkerTokens({}, adminCall)).tokens;
  assertEquals([token.state, token.effectiveState, token.boundMachineId], [
    WorkerTokenState.REVOKED,
    WorkerTokenState.REVOKED,
    "",
  ]);
});

Deno.test("worker tokens: a wrong secret, an unknown name and a malformed token are token_invalid, naming no secret", async () => {
  await using temp = await tempFileStore();
  const clock = new StepClock();
  const workers = localWorkerService(() => Promise.resolve(temp.store), clock);
  const { credential } = await workers.createWorkerToken({ name: "ci" }, adminCall);
  const secret = credential.slice(3);
  const cases: [string, string][] = [
    [`ci.${secret}x`, "worker token ci is not valid here"],
    [`nobody.${secret}`, "worker token nobody is not valid here"],
    ["ci", "the enrollment token is not NAME.SECRET"],
    ["", "the enrollment token is not NAME.SECRET"],
  ];
  for (const [presented, message] of cases) {
    await assertRejects(
      () => redeemWorkerToken(temp.store, presented, "machine-a", clock),
      refusal(ErrorCode.TOKEN_INVALID, message, [secret.slice(0, 10)]),
    );
  }
  // A wrong secret binds nothing: the rightful machine still enrolls.
  const token = await redeemWorkerToken(temp.store, credential, "machine-b", clock);
  assertEquals(token.boundMachineId, "machine-b");
});

Deno.test("worker tokens: bad input is a usage error that changes nothing", async () => {
  await using temp = await tempFileStore();
  const workers = localWorkerService(() => Promise.resolve(temp.store), new StepClock());
  const cases: [Parameters<typeof workers.createWorkerToken>[0], ErrorCode, string][] = [
    [{ name: "Bad Name" }, ErrorCode.USAGE, "`Bad Name` is not a valid worker token name"],
    [{ name: "" }, ErrorCode.USAGE, "is not a valid worker token name"],
    [{ name: "ok", labels: { "-gpu": "x" } }, ErrorCode.USAGE, "`-gpu` is not a valid label key"],
    [{ name: "ok", labels: { gpu: "a\nb" } }, ErrorCode.USAGE, "the value of label `gpu`"],
    [{ name: "ok", durationSeconds: 11n * 365n * 86400n }, ErrorCode.USAGE, "at most 10 years"],
  ];
  for (const [request, code, message] of cases) {
    await assertRejects(
      () => workers.createWorkerToken(request, adminCall),
      refusal(code, message),
    );
  }
  assertEquals(await temp.store.listWorkerTokens(), []);
  await workers.createWorkerToken({ name: "taken" }, adminCall);
  await assertRejects(
    () => workers.createWorkerToken({ name: "taken" }, adminCall),
    refusal(ErrorCode.ALREADY_EXISTS, "a worker token named taken already exists"),
  );
  await assertRejects(
    () => workers.revokeWorkerToken({ name: "nothing" }, adminCall),
    refusal(ErrorCode.NOT_FOUND, "no worker token named nothing"),
  );
});

Deno.test("workerTokenState: revoked, then expired, then the recorded state", () => {
  const now = new Date(1_800_000_000_000);
  const token = (fields: Record<string, unknown>) =>
    create(WorkerTokenSchema, {
      name: "t",
      expireTime: timestampFromMs(now.getTime() + 1),
      state: WorkerTokenState.UNUSED,
      ...fields,
    });
  const past = timestampFromMs(now.getTime());
  const cases: [Record<string, unknown>, WorkerTokenState][] = [
    [{}, WorkerTokenState.UNUSED],
    [{ state: WorkerTokenState.UNSPECIFIED }, WorkerTokenState.UNUSED],
    [{ state: WorkerTokenState.ENROLLED, boundMachineId: "m" }, WorkerTokenState.ENROLLED],
    [{ expireTime: past }, WorkerTokenState.EXPIRED],
    [{ state: WorkerTokenState.ENROLLED, expireTime: past }, WorkerTokenState.EXPIRED],
    [{ revokeTime: past, state: WorkerTokenState.REVOKED }, WorkerTokenState.REVOKED],
    [{ revokeTime: past, expireTime: past }, WorkerTokenState.REVOKED],
  ];
  for (const [fields, expected] of cases) {
    assertEquals(workerTokenState(token(fields), now), expected, Object.keys(fields).join(","));
  }
});

Deno.test("roles: every RPC of every served service has a role; worker tokens need operator to list, admin to change", () => {
  for (
    const service of [RunService, RepoService, AuthService, WorkerService, CapabilityService]
  ) {
    for (const method of service.methods) {
      const key = `${service.name}/${method.name}`;
      assert(
        (requiredRoles[key] !== undefined) !== selfAuthenticated.has(key),
        `${key} needs exactly one of: a role in roles.ts, or a place in selfAuthenticated`,
      );
    }
  }
  assertEquals(requiredRoles["WorkerService/ListWorkerTokens"], Role.OPERATOR);
  assertEquals(requiredRoles["WorkerService/CreateWorkerToken"], Role.ADMIN);
  assertEquals(requiredRoles["WorkerService/RevokeWorkerToken"], Role.ADMIN);
  assertEquals(requiredRoles["WorkerService/ListWorkers"], Role.VIEWER);
  assertEquals(requiredRoles["WorkerService/DrainWorker"], Role.OPERATOR);
  assertEquals(
    [...selfAuthenticated].filter((key) => !key.startsWith("CapabilityService/")),
    ["WorkerService/Attach"],
  );
});
