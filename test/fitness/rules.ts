/**
 * Architecture fitness rules (DESIGN.md §3 "Layout and boundaries"), written as pure functions
 * over a plain module graph so that each rule can be shown to fail on a hand-made graph.
 *
 * Graph nodes are project files named by their path relative to the repository root, using `/`
 * (e.g. `runtime/mod.ts`). Edge targets are either such a project path, `node:<module>` for Node
 * built-ins, `npm:<package>` for npm packages (including anything resolved under node_modules/),
 * or the raw specifier/URL for anything else (jsr:, https:, ...).
 */

/** One import arrow from a project file. */
export interface Edge {
  /** Normalised target: project path, `node:x`, `npm:pkg`, or a raw specifier. */
  to: string;
  /** The specifier as written in the source. */
  specifier: string;
  /** True when only the type side of the import resolved to this target. */
  typeOnly?: boolean;
  /** True for `import()` expressions. */
  dynamic?: boolean;
}

/** Project file → its imports. */
export type ModuleGraph = Map<string, Edge[]>;

export type RuleId =
  | "direction"
  | "runtime-forbidden-dependency"
  | "public-face"
  | "cycle"
  | "file-size"
  | "cli-json"
  | "startup-node";

export interface Violation {
  rule: RuleId;
  /** The importing file (or the offending file for file-size; the first file for a cycle). */
  file: string;
  /** The import target, when the violation is about one arrow. */
  to?: string;
  message: string;
}

/** Top-level folders that hold the project's TypeScript. */
export const SOURCE_FOLDERS = ["cli", "runtime", "plugins", "wasm", "bench", "test"] as const;

/** Node built-ins the runtime must never import (network, SQLite). */
export const RUNTIME_FORBIDDEN_NODE = [
  "node:sqlite",
  "node:http",
  "node:http2",
  "node:https",
  "node:net",
  "node:tls",
  "node:dgram",
] as const;

/** npm packages the runtime must never import (Docker, network/RPC transports). */
export const RUNTIME_FORBIDDEN_NPM = [
  "dockerode",
  "@connectrpc/connect-node",
  "@connectrpc/connect",
  "@grpc/grpc-js",
] as const;

export const MAX_FILE_LINES = 800;

/** Is this edge target one of the project's own files? */
export function isProjectFile(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("node_modules/");
}

/** First path segment (`runtime`, `cli`, ...) of a project path. */
export function topFolder(path: string): string {
  const i = path.indexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** `plugins/<kind>/<name>` for a file inside a plugin, otherwise undefined. */
export function pluginOf(path: string): string | undefined {
  const parts = path.split("/");
  if (parts[0] !== "plugins" || parts.length < 4) return undefined;
  return parts.slice(0, 3).join("/");
}

export function isTestFile(path: string): boolean {
  return topFolder(path) === "test" || /_test\.[cm]?[jt]sx?$/.test(path);
}

export function isGenerated(path: string): boolean {
  return path.startsWith("proto/gen/");
}

/** The folder that has a single public face (`mod.ts`) which contains `path`, if any. */
export function boundaryOf(path: string): string | undefined {
  const top = topFolder(path);
  if (top === "runtime" || top === "wasm") return top;
  return pluginOf(path);
}

function projectEdges(graph: ModuleGraph): [string, Edge][] {
  const out: [string, Edge][] = [];
  for (const [file, edges] of graph) {
    for (const e of edges) if (isProjectFile(e.to)) out.push([file, e]);
  }
  return out;
}

function sorted(vs: Violation[]): Violation[] {
  return vs.sort((a, b) =>
    a.rule.localeCompare(b.rule) || a.file.localeCompare(b.file) ||
    (a.to ?? "").localeCompare(b.to ?? "")
  );
}

/** Rule 1: dependencies point one way (cli → plugins → runtime → proto; wasm is a leaf). */
export function checkDirection(graph: ModuleGraph): Violation[] {
  const forbidden: Record<string, string[]> = {
    runtime: ["cli", "plugins", "test", "bench"],
    plugins: ["cli", "test", "bench"],
    proto: ["cli", "runtime", "plugins", "wasm"],
    wasm: ["cli", "plugins", "runtime"],
  };
  const out: Violation[] = [];
  for (const [file, edge] of projectEdges(graph)) {
    const from = topFolder(file);
    const to = topFolder(edge.to);
    const v = (message: string) =>
      out.push({ rule: "direction", file, to: edge.to, message: `${from}/ ${message}` });
    // Tests beside the code may use the shared helpers in test/helpers/.
    const testHelper = file.endsWith("_test.ts") && edge.to.startsWith("test/helpers/");
    if (forbidden[from]?.includes(to) && !testHelper) {
      v(`must not import ${to}/`);
    } else if (from === "runtime" && to === "wasm" && edge.to !== "wasm/mod.ts") {
      v("may reach wasm/ only through wasm/mod.ts");
    }
    const fromPlugin = pluginOf(file);
    const toPlugin = pluginOf(edge.to);
    if (fromPlugin && toPlugin && fromPlugin !== toPlugin) {
      out.push({
        rule: "direction",
        file,
        to: edge.to,
        message: `plugin ${fromPlugin} must not import another plugin (${toPlugin})`,
      });
    }
  }
  return sorted(out);
}

/** npm package name from a specifier such as `npm:@a/b@1.2/x`, `@a/b/x`, `dockerode`. */
export function npmPackageName(spec: string): string {
  let s = spec.replace(/^npm:\/?/, "");
  const parts = s.split("/");
  s = s.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const at = s.indexOf("@", 1);
  return at > 0 ? s.slice(0, at) : s;
}

/** Rule 2: runtime/ never imports a network library, Docker or SQLite. */
export function checkRuntimeForbiddenDeps(graph: ModuleGraph): Violation[] {
  const nodeBan = new Set<string>(RUNTIME_FORBIDDEN_NODE);
  const npmBan = new Set<string>(RUNTIME_FORBIDDEN_NPM);
  const out: Violation[] = [];
  for (const [file, edges] of graph) {
    if (topFolder(file) !== "runtime") continue;
    for (const e of edges) {
      let hit: string | undefined;
      if (e.to.startsWith("node:")) {
        const base = "node:" + e.to.slice(5).split("/")[0];
        if (nodeBan.has(base)) hit = base;
      } else if (e.to.startsWith("npm:")) {
        const pkg = npmPackageName(e.to);
        if (npmBan.has(pkg)) hit = `npm:${pkg}`;
      }
      if (hit) {
        out.push({
          rule: "runtime-forbidden-dependency",
          file,
          to: e.to,
          message: `runtime/ must not import ${hit}${e.typeOnly ? " (type-only import)" : ""}`,
        });
      }
    }
  }
  return sorted(out);
}

/** Rule 3: crossing into runtime/, wasm/ or a plugin goes through its mod.ts. */
export function checkPublicFaces(graph: ModuleGraph): Violation[] {
  const out: Violation[] = [];
  for (const [file, edge] of projectEdges(graph)) {
    if (isTestFile(file) || topFolder(file) === "bench" || isGenerated(edge.to)) continue;
    const target = boundaryOf(edge.to);
    if (!target || boundaryOf(file) === target) continue;
    const face = `${target}/mod.ts`;
    if (edge.to !== face) {
      out.push({
        rule: "public-face",
        file,
        to: edge.to,
        message: `imports inside ${target}/; must import ${face}`,
      });
    }
  }
  return sorted(out);
}

/**
 * Rule 4: no import cycles among project files. Iterative Tarjan SCC; for every strongly
 * connected component with more than one file (or a self-import), reports one concrete cycle.
 */
export function findCycles(graph: ModuleGraph): Violation[] {
  const succ = new Map<string, string[]>();
  const kinds = new Map<string, string>(); // "from\nto" → "type", "dynamic", "type, dynamic"
  const addNode = (n: string) => {
    if (!succ.has(n)) succ.set(n, []);
  };
  for (const [file, edges] of graph) {
    addNode(file);
    for (const e of edges) {
      if (!isProjectFile(e.to)) continue;
      addNode(e.to);
      const list = succ.get(file)!;
      if (!list.includes(e.to)) list.push(e.to);
      const key = `${file}\n${e.to}`;
      const kind = [e.typeOnly ? "type" : "", e.dynamic ? "dynamic" : ""].filter(Boolean).join(
        ", ",
      );
      // Several imports of one target: the arrow is as strong as the strongest of them.
      kinds.set(key, kinds.has(key) && (kinds.get(key) === "" || kind === "") ? "" : kind);
    }
  }
  for (const list of succ.values()) list.sort();

  const names = [...succ.keys()].sort();
  const id = new Map(names.map((n, i) => [n, i]));
  const adjacency = names.map((n) => succ.get(n)!.map((w) => id.get(w)!));
  const sccs = stronglyConnected(adjacency)
    .filter((c) => c.length > 1 || adjacency[c[0]].includes(c[0]))
    .map((c) => c.map((i) => names[i]));

  const out: Violation[] = [];
  for (const scc of sccs) {
    const members = new Set(scc);
    const first = [...scc].sort()[0];
    const cycle = shortestCycle(first, succ, members);
    out.push({
      rule: "cycle",
      file: first,
      message: `import cycle: ${describePath(cycle, kinds)}` +
        (scc.length > cycle.length - 1
          ? ` (part of a strongly connected group: ${[...scc].sort().join(", ")})`
          : ""),
    });
  }
  return sorted(out);
}

/**
 * Tarjan's strongly connected components over integer node ids, iteratively (an explicit work
 * stack instead of recursion, so deep import chains cannot overflow the call stack).
 */
export function stronglyConnected(adjacency: number[][]): number[][] {
  const n = adjacency.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const nextEdge = new Int32Array(n);
  const stack: number[] = [];
  const work: number[] = [];
  const out: number[][] = [];
  let counter = 0;
  for (let start = 0; start < n; start++) {
    if (index[start] >= 0) continue;
    index[start] = low[start] = counter++;
    stack.push(start);
    onStack[start] = 1;
    work.push(start);
    while (work.length > 0) {
      const v = work[work.length - 1];
      const edges = adjacency[v];
      if (nextEdge[v] < edges.length) {
        const w = edges[nextEdge[v]++];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push(w);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v], index[w]);
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component.push(w);
        } while (w !== v);
        out.push(component);
      }
    }
  }
  return out;
}

/** `a → b →(type) c → a`, marking type-only and dynamic arrows. */
function describePath(path: string[], kinds: Map<string, string>): string {
  let out = path[0];
  for (let i = 1; i < path.length; i++) {
    const kind = kinds.get(`${path[i - 1]}\n${path[i]}`);
    out += ` →${kind ? `(${kind})` : ""} ${path[i]}`;
  }
  return out;
}

/** BFS inside one SCC for the shortest path from `start` back to itself. */
function shortestCycle(
  start: string,
  succ: Map<string, string[]>,
  members: Set<string>,
): string[] {
  const parent = new Map<string, string>();
  const queue: string[] = [start];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    for (const w of succ.get(n)!) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path: string[] = [];
        for (let c = n; c !== start; c = parent.get(c)!) path.push(c);
        path.push(start);
        path.reverse();
        path.push(start);
        return path;
      }
      if (!parent.has(w)) {
        parent.set(w, n);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Rule 5: no source file over MAX_FILE_LINES lines (generated proto/gen is exempt). */
export function checkFileSizes(lineCounts: Map<string, number>, max = MAX_FILE_LINES): Violation[] {
  const out: Violation[] = [];
  for (const [file, lines] of lineCounts) {
    if (isGenerated(file) || lines <= max) continue;
    out.push({ rule: "file-size", file, message: `${lines} lines (limit ${max})` });
  }
  return sorted(out);
}

/**
 * Files of the CLI that may turn a message into JSON themselves: the shape every `--json`
 * document has (decision 0016), and a file the server keeps for its own later reading.
 */
export const CLI_JSON_EXEMPT = new Set(["cli/json_shape.ts", "cli/serve/worker_roster.ts"]);

/** CLI code (tests aside) that calls protobuf's `toJson` instead of going through cliJson. */
export function checkCliJson(texts: Map<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of texts) {
    if (!file.startsWith("cli/") || file.endsWith("_test.ts") || CLI_JSON_EXEMPT.has(file)) {
      continue;
    }
    if (/\btoJson\s*\(/.test(text)) {
      out.push({
        rule: "cli-json",
        file,
        message: "calls toJson: print --json documents through cliJson (cli/json_shape.ts)",
      });
    }
  }
  return sorted(out);
}

/** Number of lines in a text, not counting the empty piece after a final newline. */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  const n = text.split("\n").length;
  return text.endsWith("\n") ? n - 1 : n;
}

/** All graph rules together. */
export function checkGraph(graph: ModuleGraph): Violation[] {
  return [
    ...checkDirection(graph),
    ...checkRuntimeForbiddenDeps(graph),
    ...checkPublicFaces(graph),
    ...findCycles(graph),
  ];
}

export function formatViolations(vs: Violation[]): string {
  return vs.map((v) => `[${v.rule}] ${v.file}${v.to ? ` → ${v.to}` : ""}: ${v.message}`).join("\n");
}
