import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Role } from "../../proto/gen/swamp/v1/auth_service_pb.ts";
import { ActorKind } from "../../proto/gen/swamp/v1/run_pb.ts";

export { ActorKind, Role };

/**
 * Who is calling, as established from a credential: the OS account that runs
 * a local command, or the API token presented to a server. Never a name the
 * caller asserted.
 */
export interface Principal {
  name: string;
  kind: ActorKind;
  role: Role;
}

/**
 * What every service method receives beside its request. `signal` aborts when
 * the caller goes away or its deadline passes; work the call started stops
 * with it, except runs, which outlive their callers.
 */
export interface CallContext {
  principal: Principal;
  signal: AbortSignal;
  /** When the caller stops waiting, if it said. */
  deadline?: Date;
}

/** The principal of swamp's own writes (supervisors, timers, reconciliation). */
export const systemPrincipal: Principal = {
  name: "system",
  kind: ActorKind.SYSTEM,
  role: Role.ADMIN,
};

type Method<M> = M extends {
  methodKind: "unary";
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
} ? (request: MessageInitShape<I>, ctx: CallContext) => Promise<MessageShape<O>>
  : M extends {
    methodKind: "server_streaming";
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  } ? (request: MessageInitShape<I>, ctx: CallContext) => AsyncIterable<MessageShape<O>>
  : M extends {
    methodKind: "bidi_streaming";
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  } ? (requests: AsyncIterable<MessageShape<I>>, ctx: CallContext) => AsyncIterable<MessageShape<O>>
  : never;

/**
 * A service's implementation: each method of the generated service, taking
 * the call context. A server calls it with the context of each request; the
 * CLI binds it to the local principal (bindService).
 */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: Method<S["method"][K]>;
};
