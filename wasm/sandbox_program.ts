// The code that runs INSIDE the sandbox (QuickJS), next to the bundled CEL
// library. It is shipped as source text (`sandboxProgramSource` joins this
// function, the value helpers and the adapters), so each of those functions
// must use nothing but its parameters: the imports here are for V8 and types.
// The host talks to it only through `globalThis.__swamp`, with JSON strings in
// and out: one crossing per batch.
//
// The same function also runs in V8 (bench/cel.ts) to compare the sandbox with
// the library called directly, on identical code.

// deno-lint-ignore-file no-explicit-any
import { bufbuildAdapter, marcAdapter } from "./sandbox_adapters.ts";
import {
  type Adapter,
  type CelLibraryName,
  type ValueHelpers,
  valueHelpers,
  type WireMode,
  type WireResult,
} from "./sandbox_values.ts";

export type { CelLibraryName, WireMode, WireResult } from "./sandbox_values.ts";

/** Installs `globalThis.__swamp` using the library left in `globalThis.__celLibrary`. */
export function installSandbox(
  g: any,
  libraryName: CelLibraryName,
  helpers: (g: any) => ValueHelpers,
  adapters: Record<CelLibraryName, (L: any, h: ValueHelpers) => Adapter>,
): void {
  const L = g.__celLibrary;
  delete g.__celLibrary;
  const LIMIT = "expression_limit_exceeded";
  const adapter = adapters[libraryName](L, helpers(g));

  // ---- the batch runner -------------------------------------------------
  const cache = new Map<string, (vars: any) => any>();
  const MAX_CACHE = 2000;
  const state = { index: 0, results: [] as WireResult[], exprs: [] as string[] };
  let vars: any = {};
  let mode: WireMode = "json";

  function compiled(source: string): (vars: any) => any {
    let program = cache.get(source);
    if (!program) {
      program = adapter.compile(source) as (vars: any) => any;
      // A full cache is dropped wholesale: simple, bounded, and refilled by
      // the expressions still in use.
      if (cache.size >= MAX_CACHE) cache.clear();
      cache.set(source, program);
    }
    return program;
  }

  function describe(e: any): { error: string; limit: boolean } {
    const message = String(e && e.message !== undefined ? e.message : e);
    // QuickJS throws null when it cannot even allocate the error object.
    if (e === null || /out of memory/i.test(message)) {
      return { error: `${LIMIT}: the expression needed more memory than allowed`, limit: true };
    }
    if (/string too long|invalid array length/i.test(message)) {
      return {
        error: `${LIMIT}: the expression built a value too large (${message})`,
        limit: true,
      };
    }
    if (/stack overflow|too much recursion|maximum.*depth/i.test(message)) {
      return { error: `${LIMIT}: the expression is nested too deeply (${message})`, limit: true };
    }
    return { error: message, limit: false };
  }

  function runFrom(start: number): string {
    state.results = [];
    for (let i = start; i < state.exprs.length; i++) {
      state.index = i;
      try {
        const value = adapter.toWire(compiled(state.exprs[i])(vars), mode);
        state.results.push({ ok: true, value });
      } catch (e) {
        const { error, limit } = describe(e);
        state.results.push(limit ? { ok: false, error, limit } : { ok: false, error });
      }
    }
    state.index = state.exprs.length;
    return JSON.stringify(state.results);
  }

  g.__swamp = {
    /** request: {exprs, vars, mode, from}; returns the JSON array of results from `from` on. */
    evaluate(request: string): string {
      const r = JSON.parse(request);
      mode = r.mode;
      state.exprs = r.exprs;
      state.results = [];
      vars = {};
      for (const name of Object.keys(r.vars)) vars[name] = adapter.fromWire(r.vars[name], mode);
      return runFrom(r.from ?? 0);
    },
    /**
     * Runs a batch once, without keeping it compiled, so that the library's
     * first-use work happens before any deadline counts (see QuickJSSandbox.create).
     */
    warm(request: string): string {
      const out = this.evaluate(request);
      cache.clear();
      return out;
    },
    /** After an interrupt: the index that was running and the results before it. */
    progress(): string {
      return JSON.stringify({ index: state.index, results: state.results });
    },
    /** request: {exprs, known}; returns [{ok} | {ok:false, error}] without evaluating. */
    check(request: string): string {
      const r = JSON.parse(request);
      const known = new Set<string>(r.known);
      return JSON.stringify(r.exprs.map((source: string) => {
        try {
          const { names, fields } = adapter.references(source);
          const unknown = names.filter((n: string) => !known.has(n));
          if (unknown.length === 0) {
            return fields.env ? { ok: true, envReads: fields.env } : { ok: true };
          }
          return {
            ok: false,
            error: `unknown variable${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
          };
        } catch (e) {
          return { ok: false, error: describe(e).error };
        }
      }));
    },
    /** For tests: compiled expressions held, and what the sandbox's global object holds. */
    inspect(): string {
      return JSON.stringify({ cached: cache.size, globals: Object.getOwnPropertyNames(g) });
    },
  };
}

/** The program as source text, to be evaluated inside the sandbox after the library bundle. */
export function sandboxProgramSource(libraryName: CelLibraryName): string {
  return `(${installSandbox})(globalThis, ${JSON.stringify(libraryName)}, ${valueHelpers}, ` +
    `{ bufbuild: ${bufbuildAdapter}, marcbachmann: ${marcAdapter} });`;
}

/** Installs the program in V8 (bench/cel.ts), with the same code as in the sandbox. */
export function installInV8(g: any, libraryName: CelLibraryName): void {
  installSandbox(g, libraryName, valueHelpers, {
    bufbuild: bufbuildAdapter,
    marcbachmann: marcAdapter,
  });
}
