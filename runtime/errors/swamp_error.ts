import { type Diagnostic, ErrorCode } from "../../proto/gen/swamp/v1/errors_pb.ts";

export { ErrorCode };

/** Options for a SwampError beyond its code and message. */
export interface SwampErrorOptions {
  /** What the user should do next. */
  hint?: string;
  /** The underlying error or a description of it. */
  cause?: unknown;
  diagnostics?: Diagnostic[];
}

/**
 * The one error type the runtime throws for anything a user can cause or fix.
 * Anything else that escapes is a bug and is reported as `internal`.
 */
export class SwampError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly diagnostics: Diagnostic[];

  constructor(code: ErrorCode, message: string, options: SwampErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SwampError";
    this.code = code;
    this.hint = options.hint ?? "";
    this.diagnostics = options.diagnostics ?? [];
  }

  /** The stable text form of the code, e.g. "not_found". */
  get codeName(): string {
    return errorCodeName(this.code);
  }
}

/** "ERROR_CODE_NOT_FOUND" is reported as "not_found". */
export function errorCodeName(code: ErrorCode): string {
  const name = ErrorCode[code] ?? "UNSPECIFIED";
  return name.toLowerCase();
}

/** Describes a cause in one line, without a stack trace. */
export function describeCause(cause: unknown): string {
  if (cause === undefined || cause === null) return "";
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

/** Wraps anything thrown into a SwampError, keeping SwampErrors as they are. */
export function asSwampError(error: unknown): SwampError {
  if (error instanceof SwampError) return error;
  if (error instanceof Deno.errors.PermissionDenied) {
    return new SwampError(ErrorCode.IO, "permission denied", {
      cause: error,
      hint: "check the file permissions of the repository",
    });
  }
  return new SwampError(ErrorCode.INTERNAL, "an unexpected error occurred", {
    cause: error,
    hint: "this is a bug in swamp; run again with -v to see the details and report them",
  });
}
