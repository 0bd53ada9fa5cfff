import { LineCounter, parseDocument } from "./yaml.ts";
import type { Document } from "./yaml.ts";

/** Workflow and model files larger than this are refused unread. */
export const maxSourceBytes = 16 * 1024 * 1024;

export type SourceProblem = {
  rule: "file-too-large" | "not-text" | "empty-file" | "yaml-syntax" | "not-a-map" | "unreadable";
  message: string;
  hint?: string;
  line?: number;
  column?: number;
};

export interface ParsedSource {
  text: string;
  doc?: Document;
  lines?: LineCounter;
  /** The document as plain data; undefined when it could not be parsed. */
  data?: Record<string, unknown>;
  problems: SourceProblem[];
}

/**
 * Reads and parses a YAML file defensively: too large, binary, empty or
 * malformed input becomes a problem report, never an exception.
 */
export async function readYamlSource(path: string): Promise<ParsedSource> {
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (error) {
    return failed("", "unreadable", `cannot read the file: ${(error as Error).message}`);
  }
  if (size > maxSourceBytes) {
    return failed(
      "",
      "file-too-large",
      `the file is ${(size / 1048576).toFixed(1)} MiB; the limit is ${
        maxSourceBytes / 1048576
      } MiB`,
      "split it into smaller workflows (a `workflow` task can call another workflow)",
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    return failed("", "unreadable", `cannot read the file: ${(error as Error).message}`);
  }
  return parseYamlBytes(bytes);
}

export function parseYamlBytes(bytes: Uint8Array): ParsedSource {
  if (bytes.subarray(0, 8192).includes(0)) {
    return failed("", "not-text", "the file is binary, not YAML text");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return failed("", "not-text", "the file is not valid UTF-8 text");
  }
  if (text.trim() === "") {
    return failed(
      text,
      "empty-file",
      "the file is empty",
      "`swamp workflow create` writes a valid skeleton",
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: SourceProblem[] = doc.errors.map((error) => {
    const at = lines.linePos(error.pos[0]);
    return {
      rule: "yaml-syntax" as const,
      message: firstLine(error.message),
      line: at.line,
      column: at.col,
    };
  });
  if (problems.length > 0) return { text, doc, lines, problems };
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return {
      text,
      doc,
      lines,
      problems: [{ rule: "not-a-map", message: "the document must be a map of keys to values" }],
    };
  }
  return { text, doc, lines, data: data as Record<string, unknown>, problems };
}

function failed(
  text: string,
  rule: SourceProblem["rule"],
  message: string,
  hint?: string,
): ParsedSource {
  return { text, problems: [{ rule, message, hint }] };
}

function firstLine(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}
