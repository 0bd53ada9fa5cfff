// Errors across the wire: a SwampError leaves a server as a Connect error
// whose status comes from the one code table and whose details carry the
// swamp ErrorDetail, so a remote caller rebuilds the same error (code,
// message, hint, diagnostics) and the CLI exits with the same status.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorDetail, ErrorDetailSchema } from "../../../proto/gen/swamp/v1/errors_pb.ts";
import {
  asSwampError,
  codeForGrpcStatus,
  describeCause,
  ErrorCode,
  errorCodeName,
  grpcStatusFor,
  SwampError,
} from "../../../runtime/mod.ts";

/** What a handler throws: the error as a Connect error with swamp's detail attached. */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError && error.findDetails(ErrorDetailSchema).length > 0) {
    return error;
  }
  const swamp = error instanceof ConnectError ? fromConnectError(error) : asSwampError(error);
  const internal = swamp.code === ErrorCode.INTERNAL;
  const detail = create(ErrorDetailSchema, {
    code: swamp.code,
    message: swamp.message,
    hint: swamp.hint,
    // An unexpected error's cause can hold anything (paths, values): the server's log
    // keeps it; the caller gets the code and a pointer.
    cause: internal ? "" : describeCause(swamp.cause),
    diagnostics: swamp.diagnostics,
  });
  return new ConnectError(
    swamp.message,
    grpcStatusFor(errorCodeName(swamp.code)) as Code,
    undefined,
    [{ desc: ErrorDetailSchema, value: detail }],
  );
}

/** What a client sees: the server's SwampError, or one made from the transport's failure. */
export function fromConnectError(error: ConnectError): SwampError {
  const [detail] = error.findDetails(ErrorDetailSchema) as ErrorDetail[];
  if (detail) {
    return new SwampError(detail.code, detail.message, {
      hint: detail.hint,
      cause: detail.cause || undefined,
      diagnostics: detail.diagnostics,
    });
  }
  const name = codeForGrpcStatus(error.code);
  const code = ErrorCode[name.toUpperCase() as keyof typeof ErrorCode] ?? ErrorCode.INTERNAL;
  return new SwampError(code, describeTransportFailure(error), {
    hint: hintFor(error.code),
    cause: error.cause ? describeCause(error.cause) : undefined,
  });
}

function describeTransportFailure(error: ConnectError): string {
  const message = error.rawMessage || Code[error.code] || "the call failed";
  if (error.code === Code.Unavailable) return `the server could not be reached: ${message}`;
  return `the server answered ${Code[error.code] ?? error.code}: ${message}`;
}

function hintFor(code: Code): string {
  switch (code) {
    case Code.Unavailable:
      return "check that `swamp serve` is running at that address and reachable from here";
    case Code.Unauthenticated:
      return "pass a valid token with --token or SWAMP_TOKEN";
    case Code.DeadlineExceeded:
      return "the call took longer than its deadline; try again or raise the deadline";
    default:
      return "";
  }
}

/** Any failure of a remote call as a SwampError. */
export function asRemoteError(error: unknown): SwampError {
  if (error instanceof SwampError) return error;
  // A refusal raised on this side of the connection (a certificate that does not match the
  // pin) travels inside the transport's error: it is the answer, not the transport's failure.
  for (let cause = (error as { cause?: unknown })?.cause, depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof SwampError) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  if (error instanceof ConnectError) return fromConnectError(error);
  return fromConnectError(ConnectError.from(error));
}
