// The cost of one extension method call against one command/shell step
// (issue 14): `workflow run` of a one-step workflow each way, in one
// repository, and the sandboxed subprocess's start alone (`deno run` with the
// runner's flags on an empty module) so its share stays visible. The
// extension call is its subprocess start plus three capability round trips
// (GetContext, WriteResource, Finish).
// Part 2: an extension method that writes BENCH_EXT_FLOOD_MIB (1024) MiB to
// stdout, against one that writes one line: the peak memory of `workflow run`
// following it and of the run's supervisor (sampled from /proc), and what the
// run's log keeps on disk.
// Run: deno run --allow-all bench/extension_method.ts
//   BENCH_EXT_RUNS (10), BENCH_EXT_FLOOD_MIB (1024), BENCH_EXT_PARTS (1,2)
import { deno, direct, envInt, measure, root, run, table } from "./lib.ts";
import { type MemoryResult, runSampled } from "./run_memory.ts";
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

const flood = (mib: number) =>
  `export const model = {
  type: "bench/flood",
  methods: {
    one: { description: "one line", execute: async () => { console.log("x"); return { done: true }; } },
    flood: {
      description: "${mib} MiB to stdout",
      execute: async () => {
        const line = new TextEncoder().encode("x".repeat((1 << 20) - 1) + "\\n");
        for (let i = 0; i < ${mib}; i++) await Deno.stdout.write(line);
        return { done: true };
      },
    },
  },
};
`;

async function duKb(path: string): Promise<number> {
  const out = await new Deno.Command("du", { args: ["-sk", path], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).split("\t")[0]) || 0;
}

/** Part 2: what 1 GiB of a method's stdout costs in memory and on disk. */
async function floodMemory(dir: string): Promise<void> {
  const mib = envInt("BENCH_EXT_FLOOD_MIB", 1024);
  await Deno.writeTextFile(`${dir}/extensions/models/flood.ts`, flood(mib));
  for (const method of ["one", "flood"]) {
    await Deno.writeTextFile(
      `${dir}/workflows/workflow-${method}.yaml`,
      workflow(
        method,
        `{type: model_method, modelType: bench/flood, modelName: f, methodName: ${method}}`,
      ),
    );
  }
  await runSampled(dir, "one"); // warm-up
  const rows: [string, MemoryResult, number][] = [];
  for (const method of ["one", "flood"]) {
    const before = await duKb(`${dir}/.swamp`);
    const result = await runSampled(dir, method);
    rows.push([
      method === "one" ? "one line (baseline)" : `${mib} MiB of stdout`,
      result,
      (await duKb(`${dir}/.swamp`)) - before,
    ]);
  }
  console.log(`\nan extension method writing ${mib} MiB to stdout, \`workflow run\` following it`);
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  console.log(table(
    ["case", "together peak MB", "CLI VmHWM MB", "supervisor VmHWM MB", "store grew MB", "wall s"],
    rows.map((
      [label, r, grew],
    ) => [
      label,
      mb(r.togetherKb),
      mb(r.cliHwmKb),
      mb(r.supervisorHwmKb),
      mb(grew),
      (r.ms / 1000).toFixed(1),
    ]),
  ));
  const [one, many] = [rows[0][1], rows[1][1]];
  console.log(
    `supervisor peak ${
      (many.supervisorHwmKb / Math.max(one.supervisorHwmKb, 1)).toFixed(2)
    }× the ` +
      `one-line run's; CLI and supervisor together ${
        (many.togetherKb / Math.max(one.togetherKb, 1)).toFixed(2)
      }× (report only)`,
  );
}

export async function main(): Promise<void> {
  const runs = envInt("BENCH_EXT_RUNS", 10);
  const parts = (Deno.env.get("BENCH_EXT_PARTS") ?? "1,2").split(",");
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
    if (parts.includes("2")) await floodMemory(dir);
    if (!parts.includes("1")) return;
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
