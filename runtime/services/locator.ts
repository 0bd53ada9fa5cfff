import { findRepoRoot } from "../repo/repo.ts";

/** Where commands run, and how to find the repository they act on. */
export interface RepoLocator {
  /** The directory the command was started in. */
  cwd: string;
  /** The repository root: --repo if given, else found by walking up from cwd. */
  root(): Promise<string>;
}

export function repoLocator(cwd: string, explicitRoot?: string): RepoLocator {
  let found: Promise<string> | undefined;
  return {
    cwd,
    root() {
      found ??= findRepoRoot(explicitRoot ?? cwd);
      return found;
    },
  };
}
