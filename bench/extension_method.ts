// The cost of one extension method call against one command/shell step
// (issue 14): `workflow run` of a one-step workflow each way, in one
// repository, and the sandboxed subprocess's start alone (`deno run` with the
// runner's flags on an empty module) so its share stays visible. The
// extension call is its subprocess start plus three capability round trips
// (GetContext, WriteResource, Finish).
// Run: deno run --allow-all bench/extension_method.ts   (BENCH_EXT_RUNS, default 10)
import { deno, direct, envInt, measure, root, run, table } from "./lib.ts";
import { sandboxFlags } from "../plugins/extensions/deno/sandbox_flags.ts";

const module = `import { z } from "npm:zod@4";
export const model = {
  type: "bench/ext",
  resources: { out: { description: "o", schema: z.object({ n: z.number() }) } },
  methods: {
    call: {
      description: "one write",
      arguments: z.object({}),
      execute: async (args, context) => {
        const w = await context.writeResource("out", "n", { n: 1 });
        return { version: w.version };
      },
    },
  },
};
`;

const workflow = (name: string, task: string) =>
  `id: ${crypto.randomUUID()}\nname: ${name}\njobs:\n  - name: main\n    steps:\n      - name: s\n        task: ${task}\n`;

export async function main(): Promise<void> {
  const runs = envInt("BENCH_EXT_RUNS", 10);
  const dir = await Deno.makeTempDir({ prefix: "swamp-bench-ext-" });
  try {
    await run([...direct, "repo", "init", dir, "-q"]);
    await Deno.mkdir(`${dir}/extensions/models`, { recursive: true });
    await Deno.writeTextFile(`${dir}/extensions/models/ext.ts`, module);
    await Deno.writeTextFile(`${dir}/empty.js`, "");
    await Deno.writeTextFile(
      `${dir}/workflows/workflow-ext.yaml`,
      workflow("ext", `{type: model_method, modelType: bench/ext, modelName: e, methodName: call}`),
    );
    await Deno.writeTextFile(
      `${dir}/workflows/workflow-shell.yaml`,
      workflow(
        "shell",
        `{type: model_method, modelType: command/shell, modelName: s, methodName: execute, inputs: {run: "echo 1"}}`,
      ),
    );
    const zod = Deno.realPathSync(`${root}/node_modules/zod`);
    const rows = await measure([
      {
        label: "command/shell step",
        cmd: [...direct, "workflow", "run", "shell", "-q", "--repo", dir],
      },
      {
        label: "extension method step",
        cmd: [...direct, "workflow", "run", "ext", "-q", "--repo", dir],
      },
      {
        label: "sandboxed deno start alone",
        cmd: [
          deno,
          ...sandboxFlags({
            importMap: `data:application/json,${encodeURIComponent('{"imports":{}}')}`,
            readable: [`${dir}/extensions`, zod],
            net: "127.0.0.1:1",
            memoryMb: 512,
          }),
          `${dir}/empty.js`,
        ],
      },
    ], { runs, warmup: 1 });
    console.log(
      "one extension method call against one command/shell step (`workflow run`, one step)",
    );
    console.log(table(
      ["case", "median ms", "p90 ms", "× command/shell"],
      rows.map((
        r,
      ) => [
        r.label,
        r.median.toFixed(1),
        r.p90.toFixed(1),
        (r.median / rows[0].median).toFixed(2),
      ]),
    ));
    const extra = rows[1].median - rows[0].median;
    console.log(
      `extension step costs ${
        extra.toFixed(0)
      } ms more than a shell step; the subprocess start alone is ${
        rows[2].median.toFixed(0)
      } ms of it (${(100 * rows[2].median / Math.max(extra, 1)).toFixed(0)} %)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
