import { assert, assertEquals, assertMatch } from "../../test/helpers/mod.ts";
import { ErrorCode, SwampError } from "../errors/mod.ts";
import { creatingError, fileInTheWay, openingError, stateError } from "./fs_errors.ts";

async function tempDir() {
  const path = await Deno.makeTempDir({ prefix: "swamp-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** The error Deno throws for a refused call, as the real call would (mkdir of `path`). */
async function refused(path: string): Promise<Error> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (error) {
    return error as Error;
  }
  throw new Error(`mkdir ${path} succeeded`);
}

function errno(code: string, text: string): Error {
  return Object.assign(new Error(`${text} (os error 1): mkdir '/x'`), { code });
}

function swamp(error: unknown): SwampError {
  assert(error instanceof SwampError, `not a SwampError: ${error}`);
  return error;
}

Deno.test("a file where a directory is expected is named, as a usage error when creating", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/notes`, "");
  assertEquals(await fileInTheWay(`${dir.path}/notes/a/b`), `${dir.path}/notes`);
  assertEquals(await fileInTheWay(`${dir.path}/new/a`), undefined);

  const under = swamp(
    await creatingError(await refused(`${dir.path}/notes/sub`), `${dir.path}/notes/sub`),
  );
  assertEquals(under.code, ErrorCode.USAGE);
  assertEquals(
    under.message,
    `cannot create a repository at ${dir.path}/notes/sub: ${dir.path}/notes is a file, not a directory`,
  );
  const itself = swamp(
    await creatingError(await refused(`${dir.path}/notes`), `${dir.path}/notes`),
  );
  assertMatch(itself.message, /: it is a file, not a directory$/);

  const opening = swamp(
    await openingError(await refused(`${dir.path}/notes`), `${dir.path}/notes`),
  );
  assertEquals(opening.code, ErrorCode.REPO_NOT_FOUND);
  const state = swamp(await stateError(await refused(`${dir.path}/notes`), `${dir.path}/notes`));
  assertEquals(state.code, ErrorCode.IO);
  assertMatch(state.hint, /made again when missing/);
});

Deno.test("a refusal of the file system is io, in words, with the path and what to do", async () => {
  await using dir = await tempDir();
  const proc = swamp(await creatingError(await refused("/proc/swamp-test"), "/proc/swamp-test"));
  assertEquals(proc.code, ErrorCode.IO);
  assertEquals(
    proc.message,
    "cannot create a repository at /proc/swamp-test: the file system does not allow it (No such file or directory)",
  );
  assertMatch(proc.hint, /a directory you can write to/);
  assertMatch(String((proc.cause as Error).message), /mkdir '\/proc\/swamp-test'/);

  const path = `${dir.path}/r`;
  const denied = swamp(await creatingError(errno("EACCES", "Permission denied"), path));
  assertEquals(
    denied.message,
    `cannot create a repository at ${path}: permission denied (Permission denied)`,
  );
  const readOnly = swamp(await creatingError(errno("EROFS", "Read-only file system"), path));
  assertMatch(readOnly.message, /: the file system is read-only$/);
  const unreadable = swamp(await openingError(errno("EACCES", "Permission denied"), path));
  assertEquals([unreadable.code, unreadable.message], [
    ErrorCode.IO,
    `cannot read ${path}: permission denied (Permission denied)`,
  ]);
  const sqlite = Object.assign(new Error(`unable to open database file: ${path}/x.db`), {
    code: "ERR_SQLITE_ERROR",
  });
  assertEquals(swamp(await stateError(sqlite, path)).code, ErrorCode.IO);
});

Deno.test("what the file system did not refuse is handed back unchanged", async () => {
  const bug = new TypeError("x is undefined");
  assertEquals(await creatingError(bug, "/tmp"), bug);
  assertEquals(await openingError(bug, "/tmp"), bug);
  assertEquals(await stateError(bug, "/tmp"), bug);
  const already = new SwampError(ErrorCode.ALREADY_EXISTS, "taken");
  assertEquals(await creatingError(already, "/tmp"), already);
});
