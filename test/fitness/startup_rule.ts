/**
 * Rule 7: what every command and every run's supervisor load before they can do anything (the
 * static imports of their entry files, followed through the project) reaches no Node built-in but
 * `node:sqlite`, and none of the npm packages built on Node's network layer. The first such import
 * starts Deno's Node compatibility layer, about 30 ms of each process's start
 * (docs/design/0002-fast-start.md, addendum); what needs one imports it where it is used.
 */
import type { ModuleGraph, Violation } from "./rules.ts";

/** The processes' entry files: the CLI and the run supervisor. */
export const STARTUP_ENTRIES = ["cli/main.ts", "cli/supervise.ts"] as const;

/** Node built-ins that cost nothing to load (no compatibility layer behind them). */
export const STARTUP_ALLOWED_NODE = ["node:sqlite"] as const;

/** npm packages that load the Node layer when imported. */
export const STARTUP_FORBIDDEN_NPM = [
  "dockerode",
  "@connectrpc/connect-node",
  "@grpc/grpc-js",
  "pg",
] as const;

export function checkStartupPath(
  graph: ModuleGraph,
  entries: readonly string[] = STARTUP_ENTRIES,
): Violation[] {
  const allowed = new Set<string>(STARTUP_ALLOWED_NODE);
  const forbiddenNpm = new Set<string>(STARTUP_FORBIDDEN_NPM);
  const out: Violation[] = [];
  for (const entry of entries) {
    // Breadth first, so the path reported is a shortest one.
    const via = new Map<string, string | undefined>([[entry, undefined]]);
    const queue = [entry];
    while (queue.length > 0) {
      const file = queue.shift()!;
      for (const edge of graph.get(file) ?? []) {
        if (edge.dynamic || edge.typeOnly) continue;
        const node = edge.to.startsWith("node:") ? "node:" + edge.to.slice(5).split("/")[0] : "";
        const npm = edge.to.startsWith("npm:") ? npmName(edge.to) : "";
        if ((node && !allowed.has(node)) || (npm && forbiddenNpm.has(npm))) {
          out.push({
            rule: "startup-node",
            file,
            to: edge.to,
            message: `loaded at the start of ${entry} (${pathTo(via, file).join(" → ")}): ` +
              `import it where it is used, with import()`,
          });
        } else if (graph.has(edge.to) && !via.has(edge.to)) {
          via.set(edge.to, file);
          queue.push(edge.to);
        }
      }
    }
  }
  return out;
}

function npmName(spec: string): string {
  const name = spec.slice(4);
  const parts = name.split("/");
  const full = name.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  const at = full.indexOf("@", 1);
  return at > 0 ? full.slice(0, at) : full;
}

function pathTo(via: Map<string, string | undefined>, file: string): string[] {
  const path = [file];
  for (let at = via.get(file); at !== undefined; at = via.get(at)) path.unshift(at);
  return path;
}
