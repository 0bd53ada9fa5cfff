export { DiagnosticSink, formatPath, locate } from "./source.ts";
export type { Finding, PathSegment, SourceFile } from "./source.ts";
export { knownKeysAt, reportIssues } from "./zod_issues.ts";
