// YAML parsing that keeps source positions for every node, so diagnostics can
// name a file, line and column. Built on js-yaml's event stream, which carries
// source offsets, and is an order of magnitude faster than the `yaml` package
// on large files (docs/design/0003-yaml-parser.md). Plain block YAML is read
// faster still, without positions; they are found only when a diagnostic
// needs one (docs/design/0008-block-yaml-fast-path.md).
import { constructFromEvents, CORE_SCHEMA, type Event, EVENT_ID, parseEvents } from "js-yaml";
import { readBlockYaml } from "./yaml_block.ts";

/** A node's place in the source: where it starts and, for collections, its children. */
export interface PositionNode {
  kind: "mapping" | "sequence" | "scalar" | "alias";
  /** Offset of the node's first character. */
  start: number;
  /** Mapping: key, value, key, value…; sequence: items. */
  children: PositionNode[];
  /** The scalar's text (mapping keys are looked up by it). */
  text?: string;
}

export interface ParsedYaml {
  data: unknown;
  /** True when the text was read without aliases, so the data is no larger than the text. */
  readonly aliasFree: boolean;
  /** Built on first use: most files have no problem to locate. */
  readonly root: PositionNode | undefined;
  /** 1-based line and column of an offset. */
  position(offset: number): { line: number; col: number };
}

export class YamlSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

/** Parses one YAML document; throws YamlSyntaxError with a position on bad input. */
export function parseYaml(text: string, maxDepth = 64): ParsedYaml {
  let events: Event[] | undefined;
  let data: unknown = readBlockYaml(text);
  const aliasFree = data !== undefined;
  if (data === undefined) [events, data] = parseFully(text, maxDepth);
  let lineStarts: number[] | undefined;
  let root: PositionNode | undefined | null = null;
  return {
    data,
    aliasFree,
    get root() {
      // Either parser accepted the text, and the block reader accepts only
      // what js-yaml accepts, so this does not throw.
      if (root === null) root = positionTree(events ??= parseEvents(text, { maxDepth }), text);
      return root;
    },
    position(offset) {
      lineStarts ??= computeLineStarts(text);
      return lineAndColumn(lineStarts, offset);
    },
  };
}

/** js-yaml's events and the data built from them; YamlSyntaxError on bad input. */
function parseFully(text: string, maxDepth: number): [Event[], unknown] {
  try {
    const events = parseEvents(text, { maxDepth });
    const documents = constructFromEvents(events, { source: text, schema: CORE_SCHEMA });
    if (documents.length > 1) {
      throw new YamlSyntaxError("the file holds several YAML documents; a workflow is one", 1, 1);
    }
    return [events, documents[0]];
  } catch (error) {
    if (error instanceof YamlSyntaxError) throw error;
    const mark = (error as { mark?: { line: number; column: number } }).mark;
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    throw new YamlSyntaxError(reason, (mark?.line ?? 0) + 1, (mark?.column ?? 0) + 1);
  }
}

function positionTree(events: Event[], text: string): PositionNode | undefined {
  const stack: PositionNode[] = [];
  let root: PositionNode | undefined;
  const attach = (node: PositionNode) => {
    if (stack.length > 0) stack[stack.length - 1].children.push(node);
    else root ??= node;
  };
  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const node: PositionNode = {
          kind: event.type === EVENT_ID.MAPPING ? "mapping" : "sequence",
          start: skipSpace(text, event.start),
          children: [],
        };
        attach(node);
        stack.push(node);
        break;
      }
      case EVENT_ID.SCALAR:
        attach({
          kind: "scalar",
          start: event.valueStart,
          children: [],
          text: unquote(text.slice(event.valueStart, event.valueEnd)),
        });
        break;
      case EVENT_ID.ALIAS:
        attach({ kind: "alias", start: event.anchorStart, children: [] });
        break;
      case EVENT_ID.POP:
        if (stack.length > 0) stack.pop();
        break;
    }
  }
  return root;
}

/** Block collections start where their parent's key ended; point at their first entry instead. */
function skipSpace(text: string, offset: number): number {
  let at = offset;
  while (at < text.length) {
    const ch = text[at];
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") at++;
    else if (ch === "#") {
      while (at < text.length && text[at] !== "\n") at++;
    } else break;
  }
  return at;
}

function unquote(raw: string): string {
  const first = raw[0];
  return (first === '"' || first === "'") && raw.endsWith(first) && raw.length >= 2
    ? raw.slice(1, -1)
    : raw;
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function lineAndColumn(starts: number[], offset: number): { line: number; col: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, col: offset - starts[low] + 1 };
}
