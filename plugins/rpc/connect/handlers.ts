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

async function callContext(
  gate: Gatekeeper,
  service: DescService,
  method: DescMethod,
  handler: HandlerContext,
): Promise<CallContext> {
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
    signal: handler.signal,
    deadline: timeout === undefined ? undefined : new Date(Date.now() + timeout),
  };
}

/** Connect handlers for every method of `served`, guarded by `gate`. */
export function connectHandlers(served: ServedService, gate: Gatekeeper): ConnectImpl<DescService> {
  const handlers: Record<string, unknown> = {};
  for (const method of served.service.methods) {
    const impl = served.impl[method.localName];
    const fail = (error: unknown) => {
      gate.onError?.(error, `${served.service.name}/${method.name}`);
      return toConnectError(error);
    };
    if (method.methodKind === "unary") {
      handlers[method.localName] = async (request: unknown, handler: HandlerContext) => {
        try {
          const ctx = await callContext(gate, served.service, method, handler);
          return await impl(request, ctx);
        } catch (error) {
          throw fail(error);
        }
      };
    } else if (method.methodKind === "server_streaming") {
      handlers[method.localName] = async function* (request: unknown, handler: HandlerContext) {
        try {
          const ctx = await callContext(gate, served.service, method, handler);
          for await (const message of impl(request, ctx) as AsyncIterable<unknown>) {
            yield message;
          }
        } catch (error) {
          // A caller that went away needs no answer, and its going is not a server error.
          if (handler.signal.aborted) return;
          throw fail(error);
        }
      };
    } else if (method.methodKind === "bidi_streaming") {
      handlers[method.localName] = async function* (
        requests: AsyncIterable<unknown>,
        handler: HandlerContext,
      ) {
        try {
          const ctx = await callContext(gate, served.service, method, handler);
          for await (const message of impl(requests, ctx) as AsyncIterable<unknown>) {
            yield message;
          }
        } catch (error) {
          if (handler.signal.aborted) return;
          throw fail(error);
        }
      };
    }
  }
  return handlers as ConnectImpl<DescService>;
}
