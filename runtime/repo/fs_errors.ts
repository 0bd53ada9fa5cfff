// The operating system refusing a file operation on a repository is the
// user's situation to fix, not a bug in swamp: these turn such refusals into
// errors with a stable code, the path concerned and what to do. Anything that
// is not a refusal by the file system is handed back unchanged.
import { ErrorCode, SwampError } from "../errors/mod.ts";

/** Whether `error` is the operating system refusing a file operation (it carries an errno code). */
export function isFsError(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error) || error instanceof SwampError) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

/** node:sqlite reports a database file it cannot open or write this way. */
function isSqliteError(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: unknown }).code === "ERR_SQLITE_ERROR";
}

/** What the refusal was, in words: Deno's message without the call and path it appends. */
export function refusal(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const os = error.message.replace(/\s*\(os error \d+\)[\s\S]*$/, "");
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `permission denied (${os})`;
    case "EROFS":
      return "the file system is read-only";
    case "ENOSPC":
      return "no space left on the device";
    case "ENOENT":
      // A directory that cannot be made although its parents exist: /proc and the like.
      return `the file system does not allow it (${os})`;
    default:
      return os;
  }
}

/**
 * The nearest of `path` and its parents that exists and is not a directory:
 * the file in the way when a directory was expected.
 */
export async function fileInTheWay(path: string): Promise<string | undefined> {
  for (let at = path.replace(/\/+$/, "") || "/";;) {
    try {
      return (await Deno.stat(at)).isDirectory ? undefined : at;
    } catch {
      // Missing, or under a file: look at the parent.
    }
    const parent = at.slice(0, at.lastIndexOf("/")) || "/";
    if (parent === at) return undefined;
    at = parent;
  }
}

/** `repo init` could not create or complete the repository at `path`. */
export async function creatingError(error: unknown, path: string): Promise<unknown> {
  if (!isFsError(error)) return error;
  const file = await fileInTheWay(path);
  if (file !== undefined) {
    return new SwampError(
      ErrorCode.USAGE,
      `cannot create a repository at ${path}: ${
        file === path ? "it" : file
      } is a file, not a directory`,
      { hint: "give a directory (new or existing) whose parents are directories", cause: error },
    );
  }
  return new SwampError(
    ErrorCode.IO,
    `cannot create a repository at ${path}: ${refusal(error)}`,
    {
      hint: "choose a directory you can write to on a writable file system, " +
        "e.g. one under your home directory",
      cause: error,
    },
  );
}

/** Looking for, or reading, the repository at `path` failed. */
export async function openingError(error: unknown, path: string): Promise<unknown> {
  if (!isFsError(error)) return error;
  const file = await fileInTheWay(path);
  if (file !== undefined) {
    return new SwampError(
      ErrorCode.REPO_NOT_FOUND,
      `no swamp repository at ${path}: ${file === path ? "it" : file} is a file, not a directory`,
      { hint: "pass the repository's directory with --repo DIR, or cd into it", cause: error },
    );
  }
  return new SwampError(ErrorCode.IO, `cannot read ${path}: ${refusal(error)}`, {
    hint: "you need to read and enter the repository's directories; check their permissions",
    cause: error,
  });
}

/** The run state of a repository (its `.swamp/` directory, `stateDir`) could not be opened. */
export async function stateError(error: unknown, stateDir: string): Promise<unknown> {
  if (!isFsError(error) && !isSqliteError(error)) return error;
  const file = await fileInTheWay(stateDir);
  const what = file === undefined
    ? refusal(error as Error)
    : `${file === stateDir ? "it" : file} is a file, not a directory`;
  return new SwampError(ErrorCode.IO, `cannot open the runtime state in ${stateDir}: ${what}`, {
    hint: file === undefined
      ? `you need to write to ${stateDir}; check its permissions and the free space on its disk`
      : "move the file away; the runtime state directory is made again when missing",
    cause: error,
  });
}
