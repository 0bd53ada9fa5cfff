import type { Diagnostic } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { DiagnosticSink, reportIssues } from "../diagnostics/mod.ts";
import type { ModelCatalog } from "../model/catalog.ts";
import { listFiles } from "../repo/files.ts";
import { FileMemo, sameItems } from "../repo/file_memo.ts";
import { didYouMean } from "../text/suggest.ts";
import {
  type ParsedSource,
  parseYamlText,
  readSourceText,
  type SourceProblem,
} from "../text/read_source.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { checkWorkflow, type WorkflowDirectory } from "./checks.ts";
import { checkExecutorBlocks, type ExecutorChoices } from "./executor_check.ts";
import { reportLegacyDriver } from "./legacy_driver.ts";
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

  /** The jobs and steps the file declares, counted in what parses even when it is not valid. */
  get size(): { jobs: number; steps: number } {
    const jobs = Array.isArray(this.source.data?.jobs) ? this.source.data.jobs : [];
    const steps = jobs.reduce(
      (sum: number, job) => sum + (Array.isArray(job?.steps) ? job.steps.length : 0),
      0,
    );
    return { jobs: jobs.length, steps };
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

/** Per repository root: its files as last read, and the catalog they last made. */
const loaded = new Map<string, { files: FileMemo<WorkflowFile>; last?: WorkflowCatalog }>();
const keptRoots = 16;

/** All workflow files of a repository, each read once and parsed on demand. */
export class WorkflowCatalog implements WorkflowDirectory {
  private constructor(readonly root: string, readonly files: WorkflowFile[]) {}

  /**
   * Files unchanged since the last load are not read again, and when no file
   * changed at all the catalog is the one loaded before, with the checks it
   * has made (a server loads it on every submission).
   */
  static async load(root: string): Promise<WorkflowCatalog> {
    const paths = await listFiles(root, workflowsDir, [".yaml", ".yml"]);
    const memo = loaded.get(root) ?? { files: new FileMemo<WorkflowFile>() };
    loaded.delete(root);
    loaded.set(root, memo);
    if (loaded.size > keptRoots) loaded.delete(loaded.keys().next().value!);
    const files = await Promise.all(
      paths.map((file) =>
        memo.files.get(`${root}/${file}`, async () => {
          const read = await readSourceText(`${root}/${file}`);
          return new WorkflowFile(file, read.text, read.problems);
        })
      ),
    );
    if (memo.last && sameItems(memo.last.files, files)) return memo.last;
    return memo.last = new WorkflowCatalog(root, files);
  }

  /** Diagnostics of each file against a model catalog and executors, as validate() found them. */
  private readonly checked = new WeakMap<
    ModelCatalog,
    WeakMap<ExecutorChoices, Map<WorkflowFile, Diagnostic[]>>
  >();

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

  /**
   * Every problem in one workflow file, in file order. The checks read only
   * this catalog's files, `models` and `executors` (the executors a block may
   * name), all unchanging: they are made once.
   */
  validate(entry: WorkflowFile, models: ModelCatalog, executors: ExecutorChoices): Diagnostic[] {
    let byExecutors = this.checked.get(models);
    if (!byExecutors) this.checked.set(models, byExecutors = new WeakMap());
    let byFile = byExecutors.get(executors);
    if (!byFile) byExecutors.set(executors, byFile = new Map());
    let found = byFile.get(entry);
    if (!found) byFile.set(entry, found = this.check(entry, models, executors));
    return [...found];
  }

  private check(
    entry: WorkflowFile,
    models: ModelCatalog,
    executors: ExecutorChoices,
  ): Diagnostic[] {
    const { source } = entry;
    const sink = new DiagnosticSink({ file: entry.file, yaml: source.yaml });
    for (const problem of source.problems) sink.add(problem);
    if (source.data) {
      const shape = entry.shape;
      if (!shape.success) {
        const rest = reportLegacyDriver(sink, source.data, shape.error.issues);
        reportIssues(sink, workflowSchema, source.data, rest);
      }
      checkWorkflow(source.data, sink, models, this);
      checkExecutorBlocks(source.data, sink, executors);
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
