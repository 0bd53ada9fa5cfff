import { create } from "@bufbuild/protobuf";
import { type Diagnostic, DiagnosticSchema, Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import type { ParsedYaml, PositionNode } from "../text/yaml.ts";

export type PathSegment = string | number;

/** A parsed YAML file that can turn document paths into file positions. */
export interface SourceFile {
  /** Path relative to the repository root. */
  file: string;
  yaml?: ParsedYaml;
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
  /** Where each finding without a hint is, by severity, rule and path. */
  private readonly unexplained = new Map<string, number>();
  constructor(readonly source: SourceFile) {}

  add(finding: Finding): void {
    const path = finding.path ?? [];
    const position = finding.line !== undefined
      ? { line: finding.line, col: finding.column ?? 1 }
      : locate(this.source, path, finding.key);
    const diagnostic = create(DiagnosticSchema, {
      severity: finding.severity === "warning" ? Severity.WARNING : Severity.ERROR,
      rule: finding.rule,
      message: finding.message,
      hint: finding.hint ?? "",
      file: this.source.file,
      line: position?.line ?? 0,
      column: position?.col ?? 0,
      path: formatPath(finding.key === undefined ? path : [...path, finding.key]),
    });
    // The schema's generic finding and a check's explained one about the same node: show the
    // explained one only.
    const key = `${diagnostic.severity} ${diagnostic.rule} ${diagnostic.path}`;
    const generic = this.unexplained.get(key);
    if (generic !== undefined && diagnostic.hint !== "") {
      this.items[generic] = diagnostic;
      this.unexplained.delete(key);
      return;
    }
    if (diagnostic.hint === "" && generic === undefined) {
      this.unexplained.set(key, this.items.length);
    }
    this.items.push(diagnostic);
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === Severity.ERROR).length;
  }
}

/**
 * The line and column of the node at `path`, or of the nearest ancestor that
 * exists (a missing key is reported where its parent is). With `key`, the
 * position of that key in the map at `path`.
 */
export function locate(
  source: SourceFile,
  path: readonly PathSegment[],
  key?: string,
): { line: number; col: number } | undefined {
  const yaml = source.yaml;
  if (!yaml?.root) return undefined;
  let node = yaml.root;
  let offset = node.start;
  for (const segment of path) {
    const next = child(node, segment);
    if (next === undefined) break;
    node = next.value;
    offset = node.start;
  }
  if (key !== undefined) {
    const entry = child(node, key);
    if (entry?.key) offset = entry.key.start;
  }
  return yaml.position(offset);
}

function child(
  node: PositionNode,
  segment: PathSegment,
): { value: PositionNode; key?: PositionNode } | undefined {
  if (node.kind === "mapping") {
    for (let i = 0; i + 1 < node.children.length; i += 2) {
      if (node.children[i].text === String(segment)) {
        return { key: node.children[i], value: node.children[i + 1] };
      }
    }
    return undefined;
  }
  if (node.kind === "sequence" && typeof segment === "number") {
    const item = node.children[segment];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}
