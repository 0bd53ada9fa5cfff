import type { Diagnostic } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { DiagnosticSink, reportIssues } from "../diagnostics/mod.ts";
import type { ModelCatalog } from "../model/catalog.ts";
import { listFiles } from "../repo/files.ts";
import { didYouMean } from "../text/suggest.ts";
import {
  type ParsedSource,
  parseYamlText,
  readSourceText,
  type SourceProblem,
} from "../text/read_source.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { checkWorkflow, type WorkflowDirectory } from "./checks.ts";
import { checkShape, type WorkflowShape } from "./quick_check.ts";
import { workflow as workflowSchema } from "./schema.ts";

export const workflowsDir = "workflows";

/** One workflow file as found on disk; parsed only when its contents are needed. */
export class WorkflowFile {
  private parsed?: ParsedSource;
  private shaped?: WorkflowShape;
  readonly id?: string;
  readonly name?: string;

  constructor(
    /** Path relative to the repository root. */
    readonly file: string,
    private readonly text: string | undefined,
    private readonly readProblems: SourceProblem[],
  ) {
    const header = text === undefined ? undefined : scanHeader(text);
    const identity = header ?? this.source.data;
    this.id = typeof identity?.id === "string" ? identity.id : undefined;
    this.name = typeof identity?.name === "string" ? identity.name : undefined;
  }

  get source(): ParsedSource {
    this.parsed ??= this.text === undefined
      ? { text: "", problems: this.readProblems }
      : parseYamlText(this.text);
    return this.parsed;
  }

  /** The document checked against the workflow schema, once: validate and run both need it. */
  get shape(): WorkflowShape {
    this.shaped ??= checkShape(this.source.data);
    return this.shaped;
  }
}

/**
 * The top-level `id` and `name` of a workflow without parsing it: a key at
 * column 0 can only be a top-level key. Undefined when the file is written
 * in a way this scan cannot be sure of (flow style, anchors, tags, quotes
 * with escapes); the caller then parses the file.
 */
function scanHeader(text: string): { id?: string; name?: string } | undefined {
  const out: { id?: string; name?: string } = {};
  for (const match of text.matchAll(/^(id|name|\{|-|---)(:?)[ \t]*(.*)$/gm)) {
    const [, key, colon, rest] = match;
    if (key !== "id" && key !== "name") return undefined;
    if (colon !== ":") continue;
    const value = plainValue(rest);
    if (value === undefined || out[key] !== undefined) return undefined;
    out[key] = value;
  }
  return out;
}

function plainValue(raw: string): string | undefined {
  const text = raw.replace(/[ \t]+#.*$/, "").trim();
  const quoted = /^(["'])([^"'\\]*)\1$/.exec(text);
  if (quoted) return quoted[2];
  if (text === "" || /^[&*!|>\[{"'@`%]/.test(text)) return undefined;
  return text;
}

/** All workflow files of a repository, each read once and parsed on demand. */
export class WorkflowCatalog implements WorkflowDirectory {
  private constructor(readonly root: string, readonly files: WorkflowFile[]) {}

  static async load(root: string): Promise<WorkflowCatalog> {
    const paths = await listFiles(root, workflowsDir, [".yaml", ".yml"]);
    const files = await Promise.all(paths.map(async (file) => {
      const read = await readSourceText(`${root}/${file}`);
      return new WorkflowFile(file, read.text, read.problems);
    }));
    return new WorkflowCatalog(root, files);
  }

  resolve(nameOrId: string): string | undefined {
    return this.files.find((f) => f.name === nameOrId || f.id === nameOrId)?.name;
  }

  names(): string[] {
    return this.files.flatMap((f) => (f.name === undefined ? [] : [f.name]));
  }

  /** The workflow file with this name or id; a usage error otherwise. */
  find(nameOrId: string): WorkflowFile {
    const matches = this.files.filter((f) => f.name === nameOrId || f.id === nameOrId);
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
      throw new SwampError(
        ErrorCode.AMBIGUOUS,
        `${matches.length} workflow files are named \`${nameOrId}\`: ${
          matches.map((m) => m.file).join(", ")
        }`,
        { hint: "give each workflow a unique name, or refer to it by id" },
      );
    }
    const byFile = this.files.find((f) => f.file === nameOrId || f.file.endsWith(`/${nameOrId}`));
    if (byFile) return byFile;
    const suggestion = didYouMean(nameOrId, this.names());
    throw new SwampError(ErrorCode.NOT_FOUND, `no workflow named \`${nameOrId}\``, {
      hint: suggestion ||
        (this.files.length === 0
          ? "this repository has no workflows yet; create one with `swamp workflow create <name>`"
          : `known workflows: ${this.names().join(", ")}`),
    });
  }

  /** Every problem in one workflow file, in file order. */
  validate(entry: WorkflowFile, models: ModelCatalog): Diagnostic[] {
    const { source } = entry;
    const sink = new DiagnosticSink({ file: entry.file, yaml: source.yaml });
    for (const problem of source.problems) sink.add(problem);
    if (source.data) {
      const shape = entry.shape;
      if (!shape.success) reportIssues(sink, workflowSchema, source.data, shape.error.issues);
      checkWorkflow(source.data, sink, models, this);
      this.checkUniqueIdentity(entry, sink);
    }
    return sink.items.sort((a, b) => a.line - b.line || a.column - b.column);
  }

  private checkUniqueIdentity(entry: WorkflowFile, sink: DiagnosticSink) {
    for (const other of this.files) {
      if (other === entry) continue;
      if (entry.name !== undefined && other.name === entry.name) {
        sink.add({
          rule: "duplicate-name",
          message: `workflow name \`${entry.name}\` is also used by ${other.file}`,
          hint: "workflow names must be unique in a repository",
          path: ["name"],
        });
      }
      if (entry.id !== undefined && other.id === entry.id) {
        sink.add({
          rule: "duplicate-id",
          message: `workflow id ${entry.id} is also used by ${other.file}`,
          hint: "give one of them a fresh UUID",
          path: ["id"],
        });
      }
    }
  }
}
