// The bridge from Connect's handlers to swamp's service implementations:
// each request is authenticated, authorized for its method, given a call
// context, and any error leaves as a Connect error with swamp's detail.
// Unary, server-streaming and bidirectional methods are bridged; a method
// the gate says authenticates itself skips the API token (see Gatekeeper).
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl as ConnectImpl } from "@connectrpc/connect";
import type { CallContext, Principal } from "../../../runtime/mod.ts";
import { toConnectError } from "./errors.ts";

/** One service a server offers, with its implementation. */
export interface ServedService {
  service: DescService;
  // deno-lint-ignore no-explicit-any
  impl: Record<string, (request: any, ctx: CallContext) => any>;
}

/** How a server turns a request's headers into a principal allowed to call a method. */
export interface Gatekeeper {
  /** The principal an Authorization header stands for; throws when there is none. */
  principalFor(authorization: string | null): Promise<Principal>;
  /** Throws unless the principal may call the method. */
  authorize(principal: Principal, service: string, method: string): void;
  /**
   * Methods that authenticate their caller themselves (a worker's control
   * stream carries its enrollment token in its first message): they are
   * called without an API token, with `anonymous` as the principal, and
   * without `authorize`. Every other method needs both.
   */
  authenticatesItself?(service: string, method: string): boolean;
  /** The principal such a method is called with before it authenticates. */
  anonymous?: Principal;
  /** Sees every error that leaves a handler, before it is converted (for the server's log). */
  onError?(error: unknown, method: string): void;
}

/** How a draining server treats each service's calls (server.ts). */
export interface Draining {
  /** Why a new call to the service is refused now, or undefined while it takes calls. */
  refusal(service: string): unknown;
  /** Aborted when the service's open calls are to end. */
  signal(service: string): AbortSignal;
}

async function callContext(
  gate: Gatekeeper,
  service: DescService,
  method: DescMethod,
  handler: HandlerContext,
  signal: AbortSignal,
  draining?: Draining,
): Promise<CallContext> {
  const refused = draining?.refusal(service.typeName);
  if (refused) throw refused;
  let principal: Principal;
  if (gate.anonymous && gate.authenticatesItself?.(service.typeName, method.name)) {
    principal = gate.anonymous;
  } else {
    principal = await gate.principalFor(handler.requestHeader.get("authorization"));
    gate.authorize(principal, service.typeName, method.name);
  }
  const timeout = handler.timeoutMs();
  return {
    principal,
    signal,
    deadline: timeout === undefined ? undefined : new Date(Date.now() + timeout),
  };
}

/** Connect handlers for every method of `served`, guarded by `gate`. */
export function connectHandlers(
  served: ServedService,
  gate: Gatekeeper,
  draining?: Draining,
): ConnectImpl<DescService> {
  const handlers: Record<string, unknown> = {};
  // A call ends when its caller goes, or when a draining server ends its service's calls.
  const signalOf = (handler: HandlerContext) => {
    const stop = draining?.signal(served.service.typeName);
    return stop ? AbortSignal.any([handler.signal, stop]) : handler.signal;
  };
  for (const method of served.service.methods) {
    const impl = served.impl[method.localName];
    const fail = (error: unknown) => {
      gate.onError?.(error, `${served.service.name}/${method.name}`);
      return toConnectError(error);
    };
    if (method.methodKind === "unary") {
      handlers[method.localName] = async (request: unknown, handler: HandlerContext) => {
        try {
          const ctx = await callContext(
            gate,
            served.service,
            method,
            handler,
            signalOf(handler),
            draining,
          );
          return await impl(request, ctx);
        } catch (error) {
          throw fail(error);
        }
      };
    } else if (method.methodKind === "server_streaming") {
      handlers[method.localName] = async function* (request: unknown, handler: HandlerContext) {
        const signal = signalOf(handler);
        try {
          const ctx = await callContext(gate, served.service, method, handler, signal, draining);
          for await (const message of impl(request, ctx) as AsyncIterable<unknown>) {
            yield message;
          }
        } catch (error) {
          // A caller that went away needs no answer, and its going is not a server error.
          if (signal.aborted) return;
          throw fail(error);
        }
      };
    } else if (method.methodKind === "bidi_streaming") {
      handlers[method.localName] = async function* (
        requests: AsyncIterable<unknown>,
        handler: HandlerContext,
      ) {
        const signal = signalOf(handler);
        try {
          const ctx = await callContext(gate, served.service, method, handler, signal, draining);
          for await (const message of impl(requests, ctx) as AsyncIterable<unknown>) {
            yield message;
          }
        } catch (error) {
          if (signal.aborted) return;
          throw fail(error);
        }
      };
    }
  }
  return handlers as ConnectImpl<DescService>;
}
