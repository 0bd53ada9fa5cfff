/**
 * Architecture fitness test (DESIGN.md §3 "Layout and boundaries"): reads the real module graph
 * with `deno info --json` and fails on any import arrow that breaks the layering rules, on an
 * import cycle, and on a file over 800 lines. The rules themselves live in rules.ts and are
 * shown to be able to fail in rules_test.ts.
 */
import { fromFileUrl } from "./paths.ts";
import { lineCounts, listTsFiles, loadModuleGraph } from "./graph.ts";
import {
  checkCliJson,
  checkDirection,
  checkFileSizes,
  checkPublicFaces,
  checkRuntimeForbiddenDeps,
  findCycles,
  formatViolations,
  MAX_FILE_LINES,
  type ModuleGraph,
  SOURCE_FOLDERS,
  type Violation,
} from "./rules.ts";
import { checkStartupPath, STARTUP_ENTRIES } from "./startup_rule.ts";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));

let loaded: Promise<{ graph: ModuleGraph; files: string[] }> | undefined;

/** The real module graph, read once and shared by the steps. */
function realGraph(): Promise<{ graph: ModuleGraph; files: string[] }> {
  loaded ??= (async () => {
    // proto/ is added as an entry too, so its rule holds even for files nobody imports yet.
    const files = await listTsFiles(ROOT, [...SOURCE_FOLDERS, "proto"]);
    const { graph, errors } = await loadModuleGraph(ROOT, files);
    if (errors.length > 0) {
      throw new Error(
        `deno info could not read ${errors.length} project module(s), so their imports ` +
          `cannot be checked:\n  ${errors.join("\n  ")}`,
      );
    }
    const missing = files.filter((f) => !graph.has(f));
    if (missing.length > 0) {
      throw new Error(`deno info did not report these entry files:\n  ${missing.join("\n  ")}`);
    }
    return { graph, files };
  })();
  return loaded;
}

function assertNone(what: string, violations: Violation[]): void {
  if (violations.length === 0) return;
  throw new Error(
    `${violations.length} violation(s) of "${what}":\n${formatViolations(violations)}\n`,
  );
}

Deno.test("architecture fitness", async (t) => {
  const { graph, files } = await realGraph();
  if (files.length === 0) throw new Error(`no source files found under ${ROOT}`);

  await t.step("1. dependencies point one way (cli → plugins → runtime → proto)", () => {
    assertNone("dependency direction", checkDirection(graph));
  });

  await t.step("2. runtime imports no network library, Docker or SQLite", () => {
    assertNone("runtime forbidden dependency", checkRuntimeForbiddenDeps(graph));
  });

  await t.step("3. each folder shows one public face (mod.ts)", () => {
    assertNone("public face", checkPublicFaces(graph));
  });

  await t.step("4. no import cycles", () => {
    assertNone("no import cycles", findCycles(graph));
  });

  await t.step(`5. no file over ${MAX_FILE_LINES} lines`, async () => {
    assertNone("file size", checkFileSizes(await lineCounts(ROOT)));
  });

  await t.step("6. every --json document goes through cliJson", async () => {
    const cli = files.filter((f) => f.startsWith("cli/"));
    const texts = new Map(
      await Promise.all(
        cli.map(async (f) => [f, await Deno.readTextFile(`${ROOT}/${f}`)] as const),
      ),
    );
    if (texts.size === 0) throw new Error("no CLI files found");
    assertNone("cli json", checkCliJson(texts));
  });

  await t.step("7. a command's and a supervisor's start-up loads no Node layer", () => {
    for (const entry of STARTUP_ENTRIES) {
      if (!graph.has(entry)) throw new Error(`${entry} is not in the module graph`);
    }
    assertNone("start-up path", checkStartupPath(graph));
  });
});
