import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { CallContext, ServiceImpl } from "./call_context.ts";

/**
 * The calling shape of a generated service: what the in-process
 * implementation offers once bound to a caller, and what a Connect client for
 * the same service offers, so a command is written once for both (DESIGN §4).
 */
export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends {
    methodKind: "unary";
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  } ? (request: MessageInitShape<I>) => Promise<MessageShape<O>>
    : S["method"][K] extends {
      methodKind: "server_streaming";
      input: infer I extends DescMessage;
      output: infer O extends DescMessage;
    } ? (request: MessageInitShape<I>) => AsyncIterable<MessageShape<O>>
    : S["method"][K] extends {
      methodKind: "bidi_streaming";
      input: infer I extends DescMessage;
      output: infer O extends DescMessage;
    } ? (
        requests: AsyncIterable<MessageShape<I>>,
        /** `signal` ends the call (a remote client; in process the stream ends with its requests). */
        options?: { signal?: AbortSignal },
      ) => AsyncIterable<MessageShape<O>>
    : never;
};

/** An implementation bound to one caller: every call gets `context()`. */
export function bindService<S extends DescService>(
  impl: ServiceImpl<S>,
  context: () => CallContext,
): ServiceClient<S> {
  const bound: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(impl)) {
    bound[name] = (request: unknown) =>
      (method as (r: unknown, c: CallContext) => unknown)(request, context());
  }
  return bound as ServiceClient<S>;
}
