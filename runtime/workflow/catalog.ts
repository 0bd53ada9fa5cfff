import type { Diagnostic } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { DiagnosticSink, reportIssues } from "../diagnostics/mod.ts";
import type { ModelCatalog } from "../model/catalog.ts";
import { listFiles } from "../repo/files.ts";
import { didYouMean } from "../text/suggest.ts";
import { type ParsedSource, readYamlSource } from "../text/read_source.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { checkWorkflow, type WorkflowDirectory } from "./checks.ts";
import { workflow as workflowSchema } from "./schema.ts";

export const workflowsDir = "workflows";

/** One workflow file as found on disk. */
export interface WorkflowFile {
  /** Path relative to the repository root. */
  file: string;
  source: ParsedSource;
  id?: string;
  name?: string;
}

/** All workflow files of a repository, parsed once. */
export class WorkflowCatalog implements WorkflowDirectory {
  private constructor(readonly root: string, readonly files: WorkflowFile[]) {}

  static async load(root: string): Promise<WorkflowCatalog> {
    const paths = await listFiles(root, workflowsDir, [".yaml", ".yml"]);
    const files = await Promise.all(paths.map(async (file) => {
      const source = await readYamlSource(`${root}/${file}`);
      const id = typeof source.data?.id === "string" ? source.data.id : undefined;
      const name = typeof source.data?.name === "string" ? source.data.name : undefined;
      return { file, source, id, name };
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
      const result = workflowSchema.safeParse(source.data);
      if (!result.success) reportIssues(sink, workflowSchema, source.data, result.error.issues);
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
