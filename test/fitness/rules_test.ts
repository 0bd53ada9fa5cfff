/**
 * Proves each fitness rule can fail: small hand-made graphs that break one rule each must be
 * reported, and a clean graph must report nothing.
 */
import assert from "node:assert/strict";
import {
  checkCliJson,
  checkDirection,
  checkFileSizes,
  checkGraph,
  checkPublicFaces,
  checkRuntimeForbiddenDeps,
  countLines,
  type Edge,
  findCycles,
  formatViolations,
  type ModuleGraph,
  npmPackageName,
  RUNTIME_FORBIDDEN_NODE,
  RUNTIME_FORBIDDEN_NPM,
  type Violation,
} from "./rules.ts";
import { type DenoInfo, graphFromDenoInfo } from "./graph.ts";

type Spec = string | Partial<Edge> & { to: string };

function g(spec: Record<string, Spec[]>): ModuleGraph {
  const graph: ModuleGraph = new Map();
  for (const [file, imports] of Object.entries(spec)) {
    graph.set(
      file,
      imports.map((i) =>
        typeof i === "string" ? { to: i, specifier: i } : { specifier: i.to, ...i }
      ),
    );
  }
  return graph;
}

/** Arrows (`from → to`) reported by a rule. */
function arrows(vs: Violation[]): string[] {
  return vs.map((v) => `${v.file} → ${v.to}`).sort();
}

/** A graph that follows every rule: the shape the real repository should have. */
const clean = g({
  "cli/main.ts": [
    "cli/spec.ts",
    "runtime/mod.ts",
    "plugins/stores/file/mod.ts",
    "plugins/executors/docker/mod.ts",
    "wasm/mod.ts",
    "proto/gen/swamp/v1/run_pb.ts",
    "npm:@connectrpc/connect",
    "node:http",
  ],
  "cli/spec.ts": [{ to: "cli/commands/run.ts", dynamic: true }],
  "cli/commands/run.ts": ["runtime/mod.ts", "proto/gen/swamp/v1/run_pb.ts"],
  "plugins/stores/file/mod.ts": ["plugins/stores/file/store.ts", "runtime/mod.ts"],
  "plugins/stores/file/store.ts": ["runtime/mod.ts", "proto/gen/swamp/v1/run_pb.ts"],
  "plugins/stores/file/store_test.ts": ["plugins/stores/file/store.ts", "runtime/ports/store.ts"],
  "plugins/executors/docker/mod.ts": ["npm:dockerode", "runtime/mod.ts"],
  "plugins/stores/sqlite/mod.ts": ["node:sqlite", "runtime/mod.ts"],
  "runtime/mod.ts": ["runtime/ports/store.ts", "runtime/engine/run.ts", "wasm/mod.ts"],
  "runtime/ports/store.ts": ["proto/gen/swamp/v1/run_pb.ts", "npm:@bufbuild/protobuf"],
  "runtime/engine/run.ts": ["runtime/ports/store.ts", "npm:yaml", "node:path"],
  "runtime/engine/run_test.ts": ["runtime/engine/run.ts", "wasm/mod.ts"],
  "wasm/mod.ts": ["wasm/cel.ts", "proto/gen/swamp/v1/run_pb.ts"],
  "wasm/cel.ts": [],
  "proto/gen/swamp/v1/run_pb.ts": ["proto/gen/swamp/v1/event_pb.ts", "npm:@bufbuild/protobuf"],
  "proto/gen/swamp/v1/event_pb.ts": ["npm:@bufbuild/protobuf"],
  "test/contracts/store.ts": ["runtime/ports/store.ts", "plugins/stores/file/store.ts"],
  "test/e2e/run_test.ts": ["cli/main.ts", "runtime/engine/run.ts", "wasm/cel.ts"],
  "bench/mod.ts": [
    "runtime/engine/run.ts",
    "plugins/stores/file/store.ts",
    "test/contracts/store.ts",
  ],
});

Deno.test("a clean graph reports no violation", () => {
  assert.deepEqual(checkGraph(clean), []);
  assert.deepEqual(checkFileSizes(new Map([["runtime/mod.ts", 800], ["cli/main.ts", 12]])), []);
});

Deno.test("rule 1: runtime must not import cli, plugins, test or bench", () => {
  const vs = checkDirection(g({
    "runtime/a.ts": [
      "cli/main.ts",
      "plugins/stores/file/mod.ts",
      "test/helpers/mod.ts",
      "bench/mod.ts",
      "runtime/b.ts",
      "proto/gen/x_pb.ts",
    ],
    // A test beside the code may use the shared helpers, and nothing else outside.
    "runtime/a_test.ts": ["test/helpers/clock.ts", "cli/main.ts"],
  }));
  assert.deepEqual(arrows(vs), [
    "runtime/a.ts → bench/mod.ts",
    "runtime/a.ts → cli/main.ts",
    "runtime/a.ts → plugins/stores/file/mod.ts",
    "runtime/a.ts → test/helpers/mod.ts",
    "runtime/a_test.ts → cli/main.ts",
  ]);
  assert(vs.every((v) => v.rule === "direction"));
});

Deno.test("rule 1: runtime reaches wasm only through wasm/mod.ts", () => {
  const vs = checkDirection(g({ "runtime/expr.ts": ["wasm/mod.ts", "wasm/cel.ts"] }));
  assert.deepEqual(arrows(vs), ["runtime/expr.ts → wasm/cel.ts"]);
});

Deno.test("rule 1: plugins must not import cli, test or bench", () => {
  const vs = checkDirection(g({
    "plugins/stores/file/store.ts": ["cli/context.ts", "test/helpers/mod.ts", "bench/mod.ts"],
    "plugins/stores/file/mod.ts": ["runtime/mod.ts", "plugins/stores/file/store.ts"],
  }));
  assert.deepEqual(arrows(vs), [
    "plugins/stores/file/store.ts → bench/mod.ts",
    "plugins/stores/file/store.ts → cli/context.ts",
    "plugins/stores/file/store.ts → test/helpers/mod.ts",
  ]);
});

Deno.test("rule 1: a plugin never imports another plugin, even through its mod.ts", () => {
  const vs = checkDirection(g({
    "plugins/executors/remote/mod.ts": ["plugins/executors/loopback/mod.ts"],
    "plugins/stores/sqlite/store.ts": ["plugins/stores/file/paths.ts"],
    "plugins/stores/sqlite/store_test.ts": ["plugins/stores/file/mod.ts"],
  }));
  assert.deepEqual(arrows(vs), [
    "plugins/executors/remote/mod.ts → plugins/executors/loopback/mod.ts",
    "plugins/stores/sqlite/store.ts → plugins/stores/file/paths.ts",
    "plugins/stores/sqlite/store_test.ts → plugins/stores/file/mod.ts",
  ]);
  assert.match(vs[0].message, /another plugin/);
});

Deno.test("rule 1: proto and wasm are leaves", () => {
  const vs = checkDirection(g({
    "proto/gen/a_pb.ts": [
      "cli/x.ts",
      "runtime/mod.ts",
      "plugins/stores/file/mod.ts",
      "wasm/mod.ts",
    ],
    "wasm/mod.ts": [
      "cli/x.ts",
      "plugins/stores/file/mod.ts",
      "runtime/mod.ts",
      "proto/gen/a_pb.ts",
    ],
  }));
  assert.deepEqual(arrows(vs), [
    "proto/gen/a_pb.ts → cli/x.ts",
    "proto/gen/a_pb.ts → plugins/stores/file/mod.ts",
    "proto/gen/a_pb.ts → runtime/mod.ts",
    "proto/gen/a_pb.ts → wasm/mod.ts",
    "wasm/mod.ts → cli/x.ts",
    "wasm/mod.ts → plugins/stores/file/mod.ts",
    "wasm/mod.ts → runtime/mod.ts",
  ]);
});

Deno.test("rule 2: runtime never imports network, Docker or SQLite (type-only too)", () => {
  const nodeBans = RUNTIME_FORBIDDEN_NODE.map((to) => ({ to, typeOnly: to === "node:http" }));
  const npmBans = RUNTIME_FORBIDDEN_NPM.map((p) => `npm:${p}`);
  const vs = checkRuntimeForbiddenDeps(g({
    "runtime/a.ts": [...nodeBans, ...npmBans, "node:path", "npm:yaml", "npm:@bufbuild/protobuf"],
    "runtime/b_test.ts": ["node:net"],
    "plugins/stores/sqlite/mod.ts": ["node:sqlite"],
    "plugins/executors/docker/mod.ts": ["npm:dockerode", "node:http"],
    "cli/main.ts": ["npm:@connectrpc/connect-node"],
  }));
  assert.deepEqual(
    arrows(vs),
    [
      ...[...RUNTIME_FORBIDDEN_NODE, ...npmBans].map((t) => `runtime/a.ts → ${t}`),
      "runtime/b_test.ts → node:net",
    ].sort(),
  );
  assert(vs.every((v) => v.rule === "runtime-forbidden-dependency"));
  assert(vs.some((v) => v.to === "node:http" && /type-only/.test(v.message)));
});

Deno.test("rule 2: npm package names are matched exactly, with versions and subpaths", () => {
  assert.equal(npmPackageName("npm:@connectrpc/connect@2.2.0/protocol"), "@connectrpc/connect");
  assert.equal(npmPackageName("npm:/dockerode@4.0.0/lib/docker.js"), "dockerode");
  assert.equal(npmPackageName("@grpc/grpc-js"), "@grpc/grpc-js");
  assert.equal(npmPackageName("yaml/browser/index.js"), "yaml");
  const vs = checkRuntimeForbiddenDeps(g({
    "runtime/a.ts": ["npm:@connectrpc/connect-web", "npm:dockerode-compose", "node:http/x"],
  }));
  assert.deepEqual(arrows(vs), ["runtime/a.ts → node:http/x"]);
});

Deno.test("rule 3: crossing into runtime, wasm or a plugin must target its mod.ts", () => {
  const vs = checkPublicFaces(g({
    "cli/main.ts": [
      "runtime/mod.ts",
      "runtime/ports/store.ts",
      "wasm/cel.ts",
      "plugins/stores/file/store.ts",
      "plugins/stores/file/mod.ts",
      "proto/gen/swamp/v1/run_pb.ts",
      "cli/spec.ts",
    ],
    "plugins/stores/file/store.ts": ["runtime/engine/run.ts", "plugins/stores/file/paths.ts"],
    "plugins/stores/file/mod.ts": ["wasm/mod.ts"],
    "runtime/engine/run.ts": ["runtime/ports/store.ts", "wasm/internal/cel.ts"],
  }));
  assert.deepEqual(arrows(vs), [
    "cli/main.ts → plugins/stores/file/store.ts",
    "cli/main.ts → runtime/ports/store.ts",
    "cli/main.ts → wasm/cel.ts",
    "plugins/stores/file/store.ts → runtime/engine/run.ts",
    "runtime/engine/run.ts → wasm/internal/cel.ts",
  ]);
  assert.match(vs.find((v) => v.to === "runtime/ports/store.ts")!.message, /runtime\/mod\.ts/);
});

Deno.test("rule 3: tests and bench may reach inside; others may not", () => {
  const inside = ["runtime/ports/store.ts", "wasm/cel.ts", "plugins/stores/file/store.ts"];
  const vs = checkPublicFaces(g({
    "test/contracts/store.ts": inside,
    "cli/args_test.ts": inside,
    "plugins/stores/sqlite/store_test.ts": inside,
    "bench/run.ts": inside,
    "cli/args.ts": inside,
  }));
  assert.deepEqual(arrows(vs), inside.map((t) => `cli/args.ts → ${t}`).sort());
});

Deno.test("rule 4: import cycles are found and reported as a path", () => {
  const vs = findCycles(g({
    "cli/a.ts": ["cli/b.ts"],
    "cli/b.ts": [{ to: "cli/a.ts", typeOnly: true }, "runtime/mod.ts"],
    "runtime/mod.ts": ["runtime/x.ts"],
    "runtime/x.ts": ["runtime/y.ts", "npm:yaml"],
    "runtime/y.ts": [{ to: "runtime/z.ts", dynamic: true }],
    "runtime/z.ts": ["runtime/x.ts", "npm:yaml"],
    "wasm/self.ts": ["wasm/self.ts"],
    "cli/uses_npm.ts": ["npm:yaml"],
  }));
  assert.deepEqual(vs.map((v) => v.message), [
    "import cycle: cli/a.ts → cli/b.ts →(type) cli/a.ts",
    "import cycle: runtime/x.ts → runtime/y.ts →(dynamic) runtime/z.ts → runtime/x.ts",
    "import cycle: wasm/self.ts → wasm/self.ts",
  ]);
  assert(vs.every((v) => v.rule === "cycle"));
});

Deno.test("rule 4: one report per strongly connected group, naming the whole group", () => {
  const vs = findCycles(g({
    "a.ts": ["b.ts", "c.ts"],
    "b.ts": ["a.ts"],
    "c.ts": ["d.ts"],
    "d.ts": ["a.ts"],
    "e.ts": ["a.ts"],
  }));
  assert.equal(vs.length, 1);
  assert.match(
    vs[0].message,
    /^import cycle: a\.ts → b\.ts → a\.ts \(part of .*: a\.ts, b\.ts, c\.ts, d\.ts\)$/,
  );
});

Deno.test("rule 4: the cycle search is iterative (a 10k-file chain does not blow the stack)", () => {
  const n = 10_000;
  const graph: ModuleGraph = new Map();
  for (let i = 0; i < n; i++) {
    graph.set(`m${i}.ts`, [{ to: `m${(i + 1) % n}.ts`, specifier: "x" }]);
  }
  const vs = findCycles(graph);
  assert.equal(vs.length, 1);
  graph.set(`m${n - 1}.ts`, []);
  assert.deepEqual(findCycles(graph), []);
});

Deno.test("rule 5: files over 800 lines are reported; proto/gen is exempt", () => {
  const vs = checkFileSizes(
    new Map([
      ["runtime/big.ts", 801],
      ["cli/ok.ts", 800],
      ["proto/gen/swamp/v1/run_pb.ts", 5000],
    ]),
  );
  assert.deepEqual(vs.map((v) => v.file), ["runtime/big.ts"]);
  assert.equal(vs[0].rule, "file-size");
  assert.equal(countLines("a\nb\n"), 2);
  assert.equal(countLines("a\nb"), 2);
  assert.equal(countLines(""), 0);
  assert.equal(countLines("x\n".repeat(801)), 801);
});

Deno.test("violations print as rule, file → import, reason", () => {
  const text = formatViolations(checkGraph(g({ "runtime/a.ts": ["cli/main.ts"] })));
  assert.equal(text, "[direction] runtime/a.ts → cli/main.ts: runtime/ must not import cli/");
});

Deno.test("deno info output is normalised: node_modules and npm: become npm:<pkg>", () => {
  const root = "file:///repo/";
  const info: DenoInfo = {
    roots: ["file:///tmp/entry.ts"],
    redirects: {},
    modules: [
      {
        kind: "esm",
        specifier: "file:///tmp/entry.ts",
        dependencies: [{
          specifier: "file:///repo/runtime/a.ts",
          code: { specifier: root + "runtime/a.ts" },
        }],
      },
      {
        kind: "esm",
        specifier: root + "runtime/a.ts",
        dependencies: [
          {
            specifier: "../node_modules/yaml/browser/index.js",
            code: { specifier: root + "node_modules/yaml/browser/index.js" },
            type: { specifier: root + "node_modules/yaml/dist/index.d.ts" },
          },
          { specifier: "node:http", type: { specifier: "node:http" } },
          {
            specifier: "npm:dockerode@4",
            code: { specifier: "npm:/dockerode@4.0.2/lib/index.js" },
          },
          { specifier: "@connectrpc/connect", code: { error: "not a dependency" } },
          { specifier: "./b.ts", code: { specifier: root + "runtime/b.ts" }, isDynamic: true },
          { specifier: "./missing.ts", code: { error: "Module not found" } },
        ],
      },
      { kind: "esm", specifier: root + "runtime/b.ts", dependencies: [] },
      { kind: "external", specifier: root + "node_modules/yaml/browser/index.js" },
      { specifier: root + "runtime/broken.ts", error: "Expected ';'" },
      { specifier: "https://example.com/x.ts", error: "remote not allowed" },
    ],
  };
  const { graph, errors } = graphFromDenoInfo(info, "/repo");
  assert.deepEqual([...graph.keys()].sort(), ["runtime/a.ts", "runtime/b.ts"]);
  assert.deepEqual(graph.get("runtime/a.ts")!.map((e) => [e.to, !!e.typeOnly, !!e.dynamic]), [
    ["npm:yaml", false, false],
    ["node:http", true, false],
    ["npm:dockerode", false, false],
    ["npm:@connectrpc/connect", false, false],
    ["runtime/b.ts", false, true],
    ["runtime/missing.ts", false, false],
  ]);
  assert.deepEqual(errors, ["runtime/broken.ts: Expected ';'"]);
  assert.deepEqual(arrows(checkRuntimeForbiddenDeps(graph)), [
    "runtime/a.ts → node:http",
    "runtime/a.ts → npm:@connectrpc/connect",
    "runtime/a.ts → npm:dockerode",
  ]);
});

Deno.test("rule 6: CLI code calling toJson is reported; json_shape.ts and tests are not", () => {
  const texts = new Map([
    ["cli/commands/workflow_status.ts", "ctx.out.document(toJson(GetRunResponseSchema, r));"],
    ["cli/commands/workflow_list.ts", "ctx.out.document(cliJson(ListRunsResponseSchema, r));"],
    ["cli/json_shape.ts", "return toJson(desc, message);"],
    ["cli/commands/workflow_status_test.ts", "toJson(X, y)"],
    ["runtime/run/fold.ts", "toJson(X, y)"],
  ]);
  const found = checkCliJson(texts);
  assert.deepEqual(found.map((v) => [v.rule, v.file]), [
    ["cli-json", "cli/commands/workflow_status.ts"],
  ]);
});
