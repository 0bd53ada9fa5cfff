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
import { expandBindings, extensionFuncs } from "./sandbox_extensions.ts";
import { celCompiler } from "./sandbox_compiler.ts";
import { callCompiler } from "./sandbox_compile_calls.ts";
import { loopCompiler } from "./sandbox_compile_loops.ts";
import { compiledOps } from "./sandbox_compiled_ops.ts";
import {
  type Adapter,
  type CelLibraryName,
  type FastCompiler,
  type Program,
  type ValueHelpers,
  valueHelpers,
  type WireMode,
} from "./sandbox_values.ts";

export type { CelLibraryName, WireMode, WireResult } from "./sandbox_values.ts";

/** Installs `globalThis.__swamp` using the library left in `globalThis.__celLibrary`. */
export function installSandbox(
  g: any,
  libraryName: CelLibraryName,
  helpers: (g: any) => ValueHelpers,
  adapters: Record<CelLibraryName, (L: any, h: ValueHelpers, fast?: FastCompiler) => Adapter>,
  fast?: FastCompiler,
): void {
  const L = g.__celLibrary;
  delete g.__celLibrary;
  const LIMIT = "expression_limit_exceeded";
  const adapter = adapters[libraryName](L, helpers(g), fast);

  // ---- the batch runner -------------------------------------------------
  const cache = new Map<string, Program>();
  const MAX_CACHE = 2000;
  // Results from the batch's `from` on: values, and [position, error, limit]
  // for the ones that failed (their value is null). One flat array of values
  // costs QuickJS's JSON.stringify far less than an object per result.
  // `batch` and `phase` say what a crossing was doing when it was stopped: the
  // host takes results only from the crossing it started (its batch number),
  // and a stop while a variable loads blames that variable.
  const state = {
    batch: -1,
    phase: "request" as "request" | "variable" | "expressions",
    variable: "",
    size: 0,
    index: 0,
    ids: [] as number[],
    values: [] as unknown[],
    errors: [] as any[],
  };
  const counts = { fast: 0, fallback: 0 };
  // Sources by the id the host gave them, their programs once looked up, and
  // the variables of the last batch: the host sends only what this sandbox
  // does not hold (wire_session.ts).
  const sources: string[] = [];
  let programs: (Program | undefined)[] = [];
  // The top-level names each expression reads (undefined: it does not parse).
  let reads: (string[] | undefined)[] = [];
  // Each variable as its JSON text until an expression needs it, then as a
  // value; or the error that keeps it from being loaded.
  let held: Record<string, Held> = Object.create(null);
  let vars: any = {};
  // Top-level names whose variable could not be loaded, with why.
  let unloaded: Map<string, { error: string; limit: boolean }> = new Map();
  // The same values for compiled code, without a prototype to inherit names
  // from; null when a variable's name has a dot, since the library then
  // resolves `a.b` to a variable named "a.b" before the field b of a.
  let fastVars: Record<string, any> | null = null;
  let mode: WireMode = "json";

  function compiled(source: string): Program {
    let program = cache.get(source);
    if (!program) {
      program = adapter.compile(source);
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
    const values: unknown[] = state.values = [];
    const errors: any[] = state.errors = [];
    const ids = state.ids;
    const plain = fastVars;
    const json = mode === "json";
    let fast = 0;
    let fallback = 0;
    for (let i = start; i < ids.length; i++) {
      state.index = i;
      try {
        const id = ids[i];
        const missing = unloaded.size > 0 ? readsOf(id)?.find((n) => unloaded.has(n)) : undefined;
        if (missing !== undefined) {
          const { error, limit } = unloaded.get(missing)!;
          values.push(null);
          errors.push(limit ? [i - start, error, 1] : [i - start, error]);
          continue;
        }
        const program = programs[id] ?? (programs[id] = compiled(sources[id]));
        let value;
        if (program.fast !== undefined && plain !== null) {
          // undefined: the compiled code cannot be sure; the library decides.
          value = program.fast(plain);
          if (value === undefined) fallback++;
          else fast++;
        }
        if (value === undefined) value = program.run(vars);
        // Strings and booleans are their own JSON: the commonest results skip two calls.
        const t = typeof value;
        values.push(
          json && (t === "string" || t === "boolean") ? value : adapter.toWire(value, mode),
        );
      } catch (e) {
        const { error, limit } = describe(e);
        values.push(null);
        errors.push(limit ? [i - start, error, 1] : [i - start, error]);
      }
    }
    // (An interrupted batch is not counted: the counts are for tests.)
    counts.fast += fast;
    counts.fallback += fallback;
    state.index = ids.length;
    return JSON.stringify({ values, errors });
  }

  function readsOf(id: number): string[] | undefined {
    if (!(id in reads)) {
      try {
        reads[id] = adapter.references(sources[id]).names;
      } catch {
        reads[id] = undefined; // it fails to compile, with its own error
      }
    }
    return reads[id];
  }

  function sizeText(chars: number): string {
    if (chars >= 1 << 20) return `${(chars / (1 << 20)).toFixed(1)} MiB`;
    if (chars >= 1 << 10) return `${(chars / (1 << 10)).toFixed(1)} KiB`;
    return `${chars} bytes`;
  }

  /**
   * The variables of a request: kept ones as held, new ones as JSON text, the
   * refused ones (too large to send, or too slow to load before) with their
   * error. Only the variables the batch's expressions read are loaded.
   */
  function bind(r: any, texts: string[], from: number): void {
    const next: Record<string, Held> = Object.create(null);
    for (const name of r.keep ?? []) {
      if (!(name in held)) throw new Error(`the sandbox does not hold variable ${name}`);
      next[name] = held[name];
    }
    r.vars.forEach((name: string, i: number) => next[name] = { text: texts[i] });
    for (const name of Object.keys(r.refused ?? {})) {
      next[name] = { error: { error: r.refused[name], limit: true } };
    }
    held = next;
    const needed = new Set<string>();
    for (let i = from; i < state.ids.length; i++) {
      for (const n of readsOf(state.ids[i]) ?? []) needed.add(n);
    }
    vars = {};
    unloaded = new Map();
    const plain = Object.create(null);
    let dotted = false;
    for (const name of Object.keys(next)) {
      const entry = next[name];
      // A dotted name is read through its first part (`a.b` as `a`).
      const root = name.split(".")[0];
      if (entry.text !== undefined && needed.has(root)) load(name, entry);
      if (entry.error) unloaded.set(root, entry.error);
      else if (entry.text === undefined) {
        vars[name] = plain[name] = entry.value;
        if (name.includes(".")) dotted = true;
      }
    }
    state.phase = "expressions";
    fastVars = dotted ? null : plain;
  }

  function load(name: string, entry: Held): void {
    state.phase = "variable";
    state.variable = name;
    state.size = entry.text!.length;
    try {
      entry.value = adapter.fromWire(JSON.parse(entry.text!), mode);
    } catch (e) {
      const { error, limit } = describe(e);
      const what = `variable ${name} (${sizeText(state.size)} of JSON)`;
      entry.error = !limit
        ? { error: `${what} could not be loaded: ${error}`, limit }
        : /nested too deeply/.test(error)
        ? { error: `${LIMIT}: ${what} is nested too deeply to load`, limit }
        : { error: `${LIMIT}: ${what} needs more memory than allowed to load`, limit };
    }
    entry.text = undefined;
  }

  g.__swamp = {
    /**
     * request: {exprs, vars, keep, mode, from, reset}; each of exprs is a
     * source, which takes the next id, or the id of one sent before. Returns
     * {values, errors} for the expressions from `from` on.
     */
    evaluate(request: string, batch: number, ...texts: string[]): string {
      // First, before anything that can be stopped: whose crossing this is.
      state.batch = batch;
      state.phase = "request";
      state.variable = "";
      state.values = [];
      state.errors = [];
      const r = JSON.parse(request);
      state.index = r.from ?? 0;
      if (r.reset) {
        sources.length = 0;
        programs = [];
        reads = [];
        held = Object.create(null);
      }
      mode = r.mode;
      state.ids = r.exprs.map((e: string | number) => {
        if (typeof e === "string") return sources.push(e) - 1;
        if (sources[e] === undefined) throw new Error(`the sandbox has no expression ${e}`);
        return e;
      });
      bind(r, texts, r.from ?? 0);
      return runFrom(r.from ?? 0);
    },
    /**
     * Runs a batch once, without keeping it compiled, so that the library's
     * first-use work happens before any deadline counts (see QuickJSSandbox.create).
     */
    warm(request: string, ...texts: string[]): string {
      const out = this.evaluate(request, -1, ...texts);
      cache.clear();
      sources.length = 0;
      programs = [];
      reads = [];
      held = Object.create(null);
      counts.fast = counts.fallback = 0;
      return out;
    },
    /**
     * After a stop: the crossing's batch, what it was doing (loading a
     * variable, or the expression at `index`), and the results before it.
     */
    progress(): string {
      return JSON.stringify({
        batch: state.batch,
        phase: state.phase,
        variable: state.variable,
        size: state.size,
        index: state.index,
        values: state.values,
        errors: state.errors,
      });
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
      return JSON.stringify({
        cached: cache.size,
        globals: Object.getOwnPropertyNames(g),
        fastPath: counts.fast,
        fallbacks: counts.fallback,
      });
    },
  };
}

/** A variable in the sandbox: JSON text until loaded, then a value; or why it cannot be. */
interface Held {
  text?: string;
  value?: any;
  error?: { error: string; limit: boolean };
}

/** Options of the sandbox program. */
export interface ProgramOptions {
  /** Compile expressions to JS and try that before the library (default true; docs/design/0007). */
  fastPath?: boolean;
}

/** The program as source text, to be evaluated inside the sandbox after the library bundle. */
export function sandboxProgramSource(
  libraryName: CelLibraryName,
  options: ProgramOptions = {},
): string {
  const fast = options.fastPath === false
    ? "undefined"
    : `(env) => (${celCompiler})(env, ${compiledOps}, ` +
      `{ call: ${callCompiler}, comprehension: ${loopCompiler} })`;
  const bufbuild = `(L, h, fast) => (${bufbuildAdapter})(L, h, fast, ` +
    `{ funcs: ${extensionFuncs}, expand: ${expandBindings} })`;
  return `(${installSandbox})(globalThis, ${JSON.stringify(libraryName)}, ${valueHelpers}, ` +
    `{ bufbuild: ${bufbuild}, marcbachmann: ${marcAdapter} }, ${fast});`;
}

/** Installs the program in V8 (bench/cel.ts), with the same code as in the sandbox. */
export function installInV8(
  g: any,
  libraryName: CelLibraryName,
  options: ProgramOptions = {},
): void {
  const fast: FastCompiler | undefined = options.fastPath === false
    ? undefined
    : (env) => celCompiler(env, compiledOps, { call: callCompiler, comprehension: loopCompiler });
  installSandbox(g, libraryName, valueHelpers, {
    bufbuild: (L, h, fast) =>
      bufbuildAdapter(L, h, fast, { funcs: extensionFuncs, expand: expandBindings }),
    marcbachmann: marcAdapter,
  }, fast);
}
