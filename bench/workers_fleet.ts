// A child process of bench/workers_idle.ts: N idle workers in one process,
// each a real WorkerAgent with its own token, machine id and HTTP/2 (TLS)
// connection, heartbeating as `swamp worker connect` does. One process
// instead of N keeps the benchmark's own load off the two cores the hub
// shares; the hub sees N real attached workers either way.
// Usage: deno run -A bench/workers_fleet.ts URL CA_FILE TOKENS_FILE WORK_DIR
// Prints `connected N` once every worker is connected, then runs until killed.
import { createLoopbackExecutor } from "../plugins/executors/loopback/mod.ts";
import { supportedProtocol } from "../runtime/mod.ts";
import { WorkerAgent } from "../cli/worker/agent.ts";

const [url, caFile, tokensFile, workDir] = Deno.args;
const caCert = await Deno.readTextFile(caFile);
const tokens = (await Deno.readTextFile(tokensFile)).split("\n").filter(Boolean);
const executors = new Map([["loopback", createLoopbackExecutor()]]);
const connected = new Set<number>();
const agents = tokens.map((credential, i) =>
  new WorkerAgent({
    urls: [new URL(url)],
    credential,
    machineId: crypto.randomUUID(),
    name: `idle-${i}`,
    labels: {},
    concurrency: 1,
    caCert,
    reconnect: true,
    protocol: supportedProtocol,
    softwareVersion: "bench",
    executors,
    workDir,
    log(event, fields) {
      if (event === "connected") {
        connected.add(i);
        if (connected.size === tokens.length) console.log(`connected ${connected.size}`);
      }
      if (event === "refused") console.error(`worker ${i} refused: ${JSON.stringify(fields)}`);
    },
  })
);
// Dialled a few at a time, as a fleet of machines would come up.
for (let i = 0; i < agents.length; i += 10) {
  for (const agent of agents.slice(i, i + 10)) void agent.run().catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 100));
}
