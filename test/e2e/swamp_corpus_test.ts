// A corpus of small repositories in swamp's formats (workflows, model
// definitions, extension modules), written after the shapes swamp's public
// documentation shows. Each is validated as the CLI validates it, extension
// modules imported in the sandbox; expected.json says what each must give:
// `clean` (no diagnostic), `warn` (warnings only: it loads) or `fail`, with
// the rules reported. The load rate (clean + warn) is printed.
import { Severity } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { assertEquals, makeTempRepo, runServiceFor } from "../helpers/mod.ts";

const corpus = new URL("../fixtures/swamp-corpus/", import.meta.url).pathname;

interface Expected {
  outcome: "clean" | "warn" | "fail";
  rules: string[];
  why: string;
}

async function readTree(dir: string, prefix = ""): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) Object.assign(files, await readTree(dir, `${path}/`));
    else files[path] = await Deno.readTextFile(`${dir}/${path}`);
  }
  return files;
}

Deno.test("the swamp-format corpus loads as expected, case by case", async () => {
  const expected: Record<string, Expected> = JSON.parse(
    await Deno.readTextFile(`${corpus}/expected.json`),
  );
  const cases = [];
  for await (const entry of Deno.readDir(corpus)) if (entry.isDirectory) cases.push(entry.name);
  cases.sort();
  assertEquals(cases, Object.keys(expected).sort(), "every case has an expectation");
  const got: Record<string, { outcome: string; rules: string[] }> = {};
  for (const name of cases) {
    await using repo = await makeTempRepo(await readTree(`${corpus}/${name}`));
    const response = await (await runServiceFor(repo.root)).validateWorkflows({ all: true });
    const all = [...response.modelDiagnostics, ...response.results.flatMap((r) => r.diagnostics)];
    const errors = all.filter((d) => d.severity === Severity.ERROR);
    got[name] = {
      outcome: all.length === 0 ? "clean" : errors.length === 0 ? "warn" : "fail",
      rules: [...new Set(all.map((d) => d.rule))].sort(),
    };
  }
  const want = Object.fromEntries(
    cases.map((name) => [name, { outcome: expected[name].outcome, rules: expected[name].rules }]),
  );
  assertEquals(got, want);
  const loaded = cases.filter((name) => got[name].outcome !== "fail").length;
  console.log(
    `swamp corpus: ${loaded} of ${cases.length} load (${
      Math.round(100 * loaded / cases.length)
    }%): ${cases.filter((n) => got[n].outcome === "clean").length} clean, ${
      cases.filter((n) => got[n].outcome === "warn").length
    } with warnings`,
  );
});
