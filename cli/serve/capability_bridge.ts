// Workers' capability calls arrive at `swamp serve`'s public port, on the main
// thread; the credentials they carry were issued on the run thread, where the
// engine prepared each placed extension step. This bridge carries each call
// to the run thread's capability service over a MessagePort of its own, as
// the request's bytes, and its answer (or its error's code) back.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMethod } from "@bufbuild/protobuf";
import { CapabilityService } from "../../proto/gen/swamp/v1/capability_service_pb.ts";
import { ErrorCode, SwampError } from "../../runtime/mod.ts";

type Impl = Record<string, (request: unknown) => Promise<unknown>>;

type Call = { id: number; method: string; request: Uint8Array };
type Answer =
  | { id: number; response: Uint8Array }
  | { id: number; error: { code: ErrorCode; message: string; hint?: string } };

const methods = new Map<string, DescMethod>(
  CapabilityService.methods.map((m) => [m.localName, m]),
);

/** The main thread's CapabilityService: every call answered by the run thread. */
export function bridgedCapabilityService(port: MessagePort): Impl {
  let next = 0;
  const waiting = new Map<number, (answer: Answer) => void>();
  port.onmessage = (message: MessageEvent<Answer>) => {
    waiting.get(message.data.id)?.(message.data);
    waiting.delete(message.data.id);
  };
  const impl: Impl = {};
  for (const [name, method] of methods) {
    impl[name] = (request) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        waiting.set(id, (answer) => {
          if ("response" in answer) resolve(fromBinary(method.output, answer.response));
          else {
            const { code, message, hint } = answer.error;
            reject(new SwampError(code, message, { hint }));
          }
        });
        port.postMessage(
          {
            id,
            method: name,
            request: toBinary(method.input, request as never),
          } satisfies Call,
        );
      });
  }
  return impl;
}

/** The run thread's end: answers each bridged call with `service`. */
export function serveCapabilityBridge(port: MessagePort, service: object): void {
  const impl = service as Impl;
  port.onmessage = async (message: MessageEvent<Call>) => {
    const { id, method: name, request } = message.data;
    const method = methods.get(name);
    try {
      if (!method || !impl[name]) throw new Error(`no capability method ${name}`);
      const response = await impl[name](fromBinary(method.input, request));
      port.postMessage(
        { id, response: toBinary(method.output, response as never) } satisfies Answer,
      );
    } catch (error) {
      const known = error instanceof SwampError;
      port.postMessage(
        {
          id,
          error: {
            code: known ? error.code : ErrorCode.INTERNAL,
            message: known ? error.message : `the capability service failed: ${String(error)}`,
            ...(known && error.hint ? { hint: error.hint } : {}),
          },
        } satisfies Answer,
      );
    }
  };
}
