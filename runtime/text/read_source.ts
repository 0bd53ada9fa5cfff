import { type ParsedYaml, parseYaml, YamlSyntaxError } from "./yaml.ts";

/** Workflow and model files larger than this are refused unread. */
export const maxSourceBytes = 16 * 1024 * 1024;

export type SourceProblem = {
  rule:
    | "file-too-large"
    | "not-text"
    | "empty-file"
    | "yaml-syntax"
    | "not-a-map"
    | "too-many-nodes"
    | "unreadable";
  message: string;
  hint?: string;
  line?: number;
  column?: number;
};

export interface ParsedSource {
  text: string;
  /** Positions of the document's nodes; absent when it could not be parsed. */
  yaml?: ParsedYaml;
  /** The document as plain data; undefined when it could not be parsed. */
  data?: Record<string, unknown>;
  problems: SourceProblem[];
}

/**
 * Reads and parses a YAML file defensively: too large, binary, empty or
 * malformed input becomes a problem report, never an exception.
 */
export async function readYamlSource(path: string): Promise<ParsedSource> {
  const read = await readSourceText(path);
  return read.text === undefined ? { text: "", problems: read.problems } : parseYamlText(read.text);
}

/** The file's text, or the problems that kept it from being read as text. */
export async function readSourceText(
  path: string,
): Promise<{ text?: string; problems: SourceProblem[] }> {
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (error) {
    return unread("unreadable", `cannot read the file: ${(error as Error).message}`);
  }
  if (size > maxSourceBytes) {
    return unread(
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
    return unread("unreadable", `cannot read the file: ${(error as Error).message}`);
  }
  return decodeText(bytes);
}

function decodeText(bytes: Uint8Array): { text?: string; problems: SourceProblem[] } {
  if (bytes.subarray(0, 8192).includes(0)) {
    return unread("not-text", "the file is binary, not YAML text");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return unread("not-text", "the file is not valid UTF-8 text");
  }
  return { text, problems: [] };
}

/** Parses text already read; problems are reported, never thrown. */
export function parseYamlText(text: string): ParsedSource {
  if (text.trim() === "") {
    return failed(
      text,
      "empty-file",
      "the file is empty",
      "`swamp workflow create` writes a valid skeleton",
    );
  }
  let yaml: ParsedYaml;
  try {
    yaml = parseYaml(text);
  } catch (error) {
    if (!(error instanceof YamlSyntaxError)) throw error;
    return {
      text,
      problems: [{
        rule: "yaml-syntax",
        message: error.message,
        line: error.line,
        column: error.column,
      }],
    };
  }
  const data = yaml.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return {
      text,
      yaml,
      problems: [{ rule: "not-a-map", message: "the document must be a map of keys to values" }],
    };
  }
  // Only aliases can make a document hold more values than its text has room for.
  if (!yaml.aliasFree && countNodes(data, maxNodes) > maxNodes) {
    return {
      text,
      problems: [{
        rule: "too-many-nodes",
        message: `the document expands to more than ${maxNodes} values (through aliases?)`,
        hint: "write the workflow without deeply nested aliases",
      }],
    };
  }
  return { text, yaml, data: data as Record<string, unknown>, problems: [] };
}

/** Values a document may expand to; aliases can make a small file expand to billions. */
export const maxNodes = 2_000_000;

/** Counts values reachable from `root`, stopping early once past `limit`. */
function countNodes(root: unknown, limit: number): number {
  let count = 0;
  const pending: unknown[] = [root];
  while (pending.length > 0 && count <= limit) {
    const value = pending.pop();
    count++;
    if (Array.isArray(value)) pending.push(...value);
    else if (value !== null && typeof value === "object") pending.push(...Object.values(value));
  }
  return count;
}

function unread(
  rule: SourceProblem["rule"],
  message: string,
  hint?: string,
): { problems: SourceProblem[] } {
  return { problems: [{ rule, message, hint }] };
}

function failed(
  text: string,
  rule: SourceProblem["rule"],
  message: string,
  hint?: string,
): ParsedSource {
  return { text, problems: [{ rule, message, hint }] };
}
