// Workflow files written for swamp's own format load here unchanged. The
// fixtures follow the documented shapes of that format (facts: field names
// and structure), with model definitions they refer to.
import { assertEquals, makeTempRepo, runServiceFor } from "../helpers/mod.ts";

const fixtures = new URL("../fixtures/swamp-format/", import.meta.url).pathname;

async function readTree(dir: string, prefix = ""): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) Object.assign(files, await readTree(dir, `${path}/`));
    else files[path] = await Deno.readTextFile(`${dir}/${path}`);
  }
  return files;
}

Deno.test("swamp-format workflows validate without changes", async () => {
  await using repo = await makeTempRepo(await readTree(fixtures));
  const response = await (await runServiceFor(repo.root)).validateWorkflows({ all: true });
  const problems = response.results.flatMap((r) =>
    r.diagnostics.filter((d) => d.rule !== "not-supported").map((d) =>
      `${d.file}:${d.line}: ${d.message}`
    )
  );
  assertEquals(problems, []);
  assertEquals(response.modelDiagnostics, []);
  assertEquals(response.results.length, 3);
});
