import { assertEquals } from "../helpers/assert.ts";
import type { Edge, ModuleGraph } from "./rules.ts";
import { checkStartupPath } from "./startup_rule.ts";

function graphOf(entries: Record<string, (string | Partial<Edge>)[]>): ModuleGraph {
  return new Map(
    Object.entries(entries).map(([file, edges]) => [
      file,
      edges.map((e) =>
        typeof e === "string" ? { to: e, specifier: e } : { specifier: e.to!, to: e.to!, ...e }
      ),
    ]),
  );
}

Deno.test("rule 7: a Node built-in reached by static imports from an entry is reported with its path", () => {
  const graph = graphOf({
    "cli/main.ts": ["cli/a.ts", { to: "cli/lazy.ts", dynamic: true }],
    "cli/a.ts": ["cli/b.ts", "node:sqlite"],
    "cli/b.ts": ["node:path", { to: "node:http2", typeOnly: true }],
    "cli/lazy.ts": ["node:zlib", "npm:dockerode@4.0.2"],
    "cli/supervise.ts": ["cli/c.ts"],
    "cli/c.ts": ["npm:@grpc/grpc-js@1.12.0/build/src/index.js", "npm:zod@4"],
  });
  const found = checkStartupPath(graph).map((v) => [v.file, v.to, v.message]);
  assertEquals(found, [
    [
      "cli/b.ts",
      "node:path",
      "loaded at the start of cli/main.ts (cli/main.ts → cli/a.ts → cli/b.ts): import it where it is used, with import()",
    ],
    [
      "cli/c.ts",
      "npm:@grpc/grpc-js@1.12.0/build/src/index.js",
      "loaded at the start of cli/supervise.ts (cli/supervise.ts → cli/c.ts): import it where it is used, with import()",
    ],
  ]);
});

Deno.test("rule 7: dynamic imports, type-only imports and node:sqlite are not start-up", () => {
  const graph = graphOf({
    "cli/main.ts": [{ to: "node:zlib", dynamic: true }, "node:sqlite", {
      to: "node:http2",
      typeOnly: true,
    }],
    "cli/supervise.ts": [],
  });
  assertEquals(checkStartupPath(graph), []);
});
