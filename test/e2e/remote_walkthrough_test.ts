// Runs docs/remote/getting-started.md as written, as two machines: the
// orchestrator's shell and the worker's, each its own `sh` in its own empty
// directory, with its own HOME. Where the machine allows (capability
// "netns"), the worker's shell runs in a network namespace of its own and
// reaches the orchestrator over a veth pair; elsewhere both are on loopback
// (not skipped). Under CI=true the namespace is required.
//
// The page uses the guide conventions (top of ./guide_test.ts), plus one
// marker: `on: worker (VAR …)` before an sh block runs it in the worker's
// shell, after copying the named shell variables from the orchestrator's
// (what a person copies from one terminal to the other). The orchestrator's
// shell gets ORCHESTRATOR_ADDR, the address the worker reaches it at.
import { assert, assertEquals } from "../helpers/mod.ts";
import { capability } from "../helpers/capabilities.ts";
import { blocks, GuideShell } from "../helpers/guide_shell.ts";
import { makePartition, type Partition } from "../helpers/netns.ts";
import { outputMatches, type OutputMode } from "./guide_output.ts";

const page = new URL("../../docs/remote/getting-started.md", import.meta.url).pathname;

const textModes: Record<string, OutputMode> = {
  "": "full",
  "output: partial": "partial",
  "output: any-order": "any-order",
};

const account = new TextDecoder().decode(
  (await new Deno.Command("id", { args: ["-un"], stdout: "piped" }).output()).stdout,
).trim();

/** `on: worker (URL PIN TOKEN)` → ["URL", "PIN", "TOKEN"]; undefined for any other marker. */
export function workerMarker(marker: string): string[] | undefined {
  const match = /^on: worker(?: \(([A-Z_ ]*)\))?$/.exec(marker);
  return match ? (match[1] ?? "").split(" ").filter(Boolean) : undefined;
}

const quote = (value: string) => `'${value.replaceAll("'", `'"'"'`)}'`;

async function walkthrough(net: Partition | undefined): Promise<string[]> {
  const temp = await Deno.makeTempDir({ prefix: "swamp-walkthrough-" });
  const dirs = ["orchestrator", "worker", "worker-home", "scratch-o", "scratch-w"];
  for (const d of dirs) await Deno.mkdir(`${temp}/${d}`);
  const orchestrator = new GuideShell(`${temp}/scratch-o`, `${temp}/orchestrator`, {
    env: { ORCHESTRATOR_ADDR: net?.hostIp ?? "127.0.0.1" },
  });
  const worker = new GuideShell(`${temp}/scratch-w`, `${temp}/worker`, {
    env: { HOME: `${temp}/worker-home`, XDG_STATE_HOME: "" },
    prefix: net?.exec,
  });
  const ran: string[] = [];
  const drifted: string[] = [];
  let last: { output: string; home: string } | undefined;
  try {
    for (const block of blocks(await Deno.readTextFile(page))) {
      const previous = last;
      last = undefined;
      if (block.lang === "text") {
        if (block.marker === "not-output" || block.marker === "output: unchecked") continue;
        const mode = textModes[block.marker];
        if (mode === undefined) {
          drifted.push(`line ${block.line}: unknown marker "${block.marker}"`);
        } else if (!block.adjacent || previous === undefined) {
          drifted.push(`line ${block.line}: this text block does not follow an sh block that ran`);
        } else if (!outputMatches(block.body, previous.output, mode, previous.home, account)) {
          drifted.push(
            `line ${block.line} (${mode}): the page shows\n${block.body}` +
              `but the command printed\n${previous.output}`,
          );
        }
        continue;
      }
      if (block.marker === "skip") continue;
      if ((block.lang === "yaml" || block.lang === "ts") && block.marker.startsWith("file:")) {
        const target = `${await orchestrator.cwd()}/${block.marker.slice(5).trim()}`;
        await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
        await Deno.writeTextFile(target, block.body);
        continue;
      }
      if (block.lang !== "sh") continue;
      const copied = workerMarker(block.marker);
      const shell = copied ? worker : orchestrator;
      for (const name of copied ?? []) {
        const { output } = await orchestrator.run(`printf '%s' "$${name}"`);
        assert(output !== "", `line ${block.line}: ${name} is empty in the orchestrator's shell`);
        await worker.run(`${name}=${quote(output)}`);
      }
      const expected = block.marker.startsWith("exit:") ? Number(block.marker.slice(5)) : 0;
      const result = await shell.run(block.body);
      assertEquals(
        result.code,
        expected,
        `line ${block.line}: block failed:\n${block.body}\noutput:\n${result.output}`,
      );
      ran.push(block.body);
      last = {
        output: result.output,
        home: copied ? `${temp}/worker` : `${temp}/orchestrator`,
      };
    }
  } finally {
    await orchestrator.close();
    await worker.close();
    await Deno.remove(temp, { recursive: true }).catch(() => {});
  }
  assert(
    drifted.length === 0,
    `${drifted.length} sample output(s) differ from what swamp prints:\n\n${drifted.join("\n\n")}`,
  );
  return ran;
}

Deno.test("the marker of a worker block names the variables copied to it", () => {
  assertEquals(workerMarker("on: worker (URL PIN TOKEN)"), ["URL", "PIN", "TOKEN"]);
  assertEquals(workerMarker("on: worker"), []);
  assertEquals(workerMarker("exit: 8"), undefined);
});

// Without network namespaces, on loopback: never skipped (capability() throws under CI=true).
const netns = await capability("netns");
Deno.test(
  `the remote getting-started walkthrough runs as written, the worker ${
    netns.available ? "in its own network namespace" : `on loopback (${netns.reason})`
  }`,
  async () => {
    let ran: string[];
    if (netns.available) {
      await using net = await makePartition();
      ran = await walkthrough(net);
    } else {
      ran = await walkthrough(undefined);
    }
    assert(ran.length > 8, `the walkthrough ran only ${ran.length} blocks`);
    const onWorker = (await Deno.readTextFile(page)).match(/<!-- on: worker/g) ?? [];
    assert(onWorker.length >= 2, "the worker's commands run in the worker's shell");
  },
);
