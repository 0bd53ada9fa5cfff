import { UsageError } from "./types.ts";
import { exitCodeFor } from "./exit_codes.ts";
import type { Output } from "./output.ts";

interface ErrorReport {
  code: string;
  message: string;
  hint: string;
  cause: string;
  diagnostics: unknown[];
  stack?: string;
}

/** Prints an error as `error[code]: …` (or a JSON error object) and returns the exit status. */
export async function reportError(error: unknown, out: Output): Promise<number> {
  const report = await describeError(error);
  if (out.json) {
    // Plain JSON (decision 0016): text without a value is absent.
    const { code, message, hint, cause, ...rest } = report;
    out.document({
      error: { code, message, ...(hint ? { hint } : {}), ...(cause ? { cause } : {}), ...rest },
    });
  } else {
    out.stderr(`${out.red(`error[${report.code}]`)}: ${report.message}\n`);
    if (report.hint) out.stderr(`  ${out.dim("hint:")} ${report.hint}\n`);
    if (report.cause) out.stderr(`  ${out.dim("cause:")} ${report.cause}\n`);
    if (out.verbose && report.stack) out.stderr(`${report.stack}\n`);
  }
  return exitCodeFor(report.code);
}

async function describeError(error: unknown): Promise<ErrorReport> {
  if (error instanceof UsageError) {
    let hint = error.hint;
    if (error.typo) {
      const { nearest } = await import("../runtime/mod.ts");
      const match = nearest(error.typo.word, error.typo.candidates);
      if (match !== undefined) hint = `did you mean \`${error.typo.prefix ?? ""}${match}\`?`;
    }
    return {
      code: "usage",
      message: error.message,
      hint: hint || "run with --help to see how to use it",
      cause: "",
      diagnostics: [],
    };
  }
  const { asSwampError, describeCause } = await import("../runtime/mod.ts");
  const swampError = asSwampError(error);
  const { cliJson } = await import("./json_shape.ts");
  const { DiagnosticSchema } = await import("../proto/gen/swamp/v1/errors_pb.ts");
  const internal = swampError.codeName === "internal";
  return {
    code: swampError.codeName,
    message: swampError.message,
    hint: swampError.hint,
    cause: describeCause(swampError.cause),
    diagnostics: swampError.diagnostics.map((d) => cliJson(DiagnosticSchema, d)),
    stack: internal && error instanceof Error ? error.stack : undefined,
  };
}
