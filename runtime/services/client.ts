import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/**
 * The calling shape of a generated service: what the in-process
 * implementation offers and what a Connect client for the same service
 * offers, so a command is written once for both (DESIGN §4).
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
    : never;
};
