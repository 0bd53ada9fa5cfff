import { create } from "@bufbuild/protobuf";
import { type Diagnostic, DiagnosticSchema, Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import type { Document, LineCounter, Node } from "../text/yaml.ts";
import { isMap, isPair, isScalar } from "../text/yaml.ts";

export type PathSegment = string | number;

/** A parsed YAML file that can turn document paths into file positions. */
export interface SourceFile {
  /** Path relative to the repository root. */
  file: string;
  doc?: Document;
  lines?: LineCounter;
}

export interface Finding {
  rule: string;
  message: string;
  hint?: string;
  path?: PathSegment[];
  /** Point at this key of the map at `path` rather than at the value. */
  key?: string;
  severity?: "error" | "warning";
  line?: number;
  column?: number;
}

/** "jobs[0].steps[2].task" */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

/** Collects diagnostics for one file. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  constructor(readonly source: SourceFile) {}

  add(finding: Finding): void {
    const path = finding.path ?? [];
    const position = finding.line !== undefined
      ? { line: finding.line, col: finding.column ?? 1 }
      : locate(this.source, path, finding.key);
    this.items.push(create(DiagnosticSchema, {
      severity: finding.severity === "warning" ? Severity.WARNING : Severity.ERROR,
      rule: finding.rule,
      message: finding.message,
      hint: finding.hint ?? "",
      file: this.source.file,
      line: position?.line ?? 0,
      column: position?.col ?? 0,
      path: formatPath(finding.key === undefined ? path : [...path, finding.key]),
    }));
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === Severity.ERROR).length;
  }
}

/**
 * The line and column of the node at `path`, or of the nearest ancestor that
 * exists (a missing key is reported where its parent is).
 */
export function locate(
  source: SourceFile,
  path: readonly PathSegment[],
  key?: string,
): { line: number; col: number } | undefined {
  const { doc, lines } = source;
  if (!doc || !lines) return undefined;
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    const next = child(node, segment);
    if (next === undefined) break;
    node = next.value;
    offset = next.keyOffset ?? rangeStart(node) ?? offset;
    const valueOffset = rangeStart(node);
    if (valueOffset !== undefined) offset = valueOffset;
  }
  if (key !== undefined) {
    const pair = child(node, key);
    if (pair?.keyOffset !== undefined) offset = pair.keyOffset;
  }
  return offset === undefined ? undefined : lines.linePos(offset);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

function child(
  node: unknown,
  segment: PathSegment,
): { value: unknown; keyOffset?: number } | undefined {
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const k = isScalar(item.key) ? item.key.value : item.key;
      if (String(k) === String(segment)) {
        return { value: item.value ?? item.key, keyOffset: rangeStart(item.key) };
      }
    }
    return undefined;
  }
  const items = (node as { items?: unknown[] } | undefined)?.items;
  if (typeof segment === "number" && Array.isArray(items) && segment < items.length) {
    return { value: items[segment] };
  }
  return undefined;
}
