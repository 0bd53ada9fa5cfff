// One QuickJS instance in its own WebAssembly memory, with the CEL library and
// the sandbox program loaded. It knows nothing about deadlines per expression
// or recovery; it runs one crossing at a time and reports how it ended.
//
// The memory bound is the WebAssembly.Memory itself: it is created here with a
// `maximum`, so the linear memory can never grow past it, whatever QuickJS's
// own accounting says (its setMemoryLimit alone did not hold, see
// docs/design/0004-cel-sandbox.md). Allocation failure surfaces inside QuickJS
// as "out of memory".

import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
  RELEASE_SYNC,
} from "quickjs-emscripten";
import { libraryBundle } from "./library_bundle.ts";
import { type CelLibraryName, sandboxProgramSource } from "./sandbox_program.ts";
import { polyfillSource, ZONE_PARTS_FUNCTION } from "./polyfills.ts";
import { warmZones, zoneParts } from "./zone_parts.ts";
import { prepareThreadCpu, threadCpuMs } from "./thread_cpu.ts";

const PAGE = 65536;

/** One of each common shape of template expression, evaluated once at creation. */
const WARM_UP = JSON.stringify({
  mode: "json",
  vars: ["v"],
  exprs: [
    "v.s",
    'v.s + "-" + string(v.n)',
    "has(v.m.k) ? v.m.k : false",
    "v.n * 2 + 1 > 3 && size(v.l) == 3",
    "v.l.filter(x, x > 1).map(x, x * 2)",
    "v.l.exists(x, x == 2) || v.l.all(x, x > 0)",
    'v.s.startsWith("a") && "k" in v.m',
    "int(v.n) + v.l[0]",
  ],
});
const WARM_UP_V = JSON.stringify({ s: "a", n: 2, l: [1, 2, 3], m: { k: true } });

export interface SandboxOptions {
  library: CelLibraryName;
  /** Hard cap on the sandbox's WebAssembly memory, in bytes. */
  memoryLimitBytes: number;
  /** Also apply QuickJS's own (soft) memory accounting; default true. */
  engineMemoryLimit?: boolean;
  /** The compiled fast path (docs/design/0007); default true. */
  fastPath?: boolean;
}

/** How one crossing ended. */
export type CrossingOutcome =
  | { kind: "done"; json: string }
  | { kind: "interrupted" }
  | { kind: "out_of_memory" }
  | { kind: "failed"; message: string };

export class QuickJSSandbox {
  #module: QuickJSWASMModule;
  #memory: WebAssembly.Memory;
  #runtime: QuickJSRuntime;
  #context: QuickJSContext;
  #api: QuickJSHandle;
  #wallDeadline = Infinity;
  #cpuDeadline = Infinity;
  #broken = false;

  private constructor(
    module: QuickJSWASMModule,
    memory: WebAssembly.Memory,
    runtime: QuickJSRuntime,
    context: QuickJSContext,
    api: QuickJSHandle,
  ) {
    this.#module = module;
    this.#memory = memory;
    this.#runtime = runtime;
    this.#context = context;
    this.#api = api;
    // The deadline is this thread's CPU time, not the wall clock: on a loaded
    // host a cheap expression can wait for a core longer than its deadline,
    // and that is not the expression's fault. CPU time never runs ahead of the
    // wall clock, so the cheap wall check gates the dearer CPU reading.
    runtime.setInterruptHandler(() =>
      Date.now() > this.#wallDeadline && threadCpuMs() > this.#cpuDeadline
    );
  }

  static async create(options: SandboxOptions): Promise<QuickJSSandbox> {
    await prepareThreadCpu();
    const pages = Math.floor(options.memoryLimitBytes / PAGE);
    // 16 MiB to start (QuickJS's own default), never above the cap.
    const memory = new WebAssembly.Memory({ initial: Math.min(256, pages), maximum: pages });
    const module = await newQuickJSWASMModuleFromVariant(
      newVariant(RELEASE_SYNC, { wasmMemory: memory }),
    );
    if (module.getWasmMemory() !== memory) {
      throw new Error("the QuickJS variant did not accept the bounded WebAssembly memory");
    }
    const runtime = module.newRuntime();
    // QuickJS's own limits, under the hard cap, so that most failures are a
    // clean catchable "out of memory" / "stack overflow" inside the sandbox.
    if (options.engineMemoryLimit !== false) {
      runtime.setMemoryLimit(Math.max(8 << 20, options.memoryLimitBytes - (8 << 20)));
    }
    runtime.setMaxStackSize(512 * 1024);
    const context = runtime.newContext();
    try {
      // The only host function, captured and hidden by the polyfill.
      warmZones();
      const fn = context.newFunction(ZONE_PARTS_FUNCTION, (zone, ms) => {
        return context.newString(zoneParts(context.dump(zone), context.dump(ms)));
      });
      context.setProp(context.global, ZONE_PARTS_FUNCTION, fn);
      fn.dispose();
      const bundle = await libraryBundle(options.library);
      for (
        const [name, source] of [
          ["polyfills.js", polyfillSource],
          ["cel-library.js", bundle],
          ["sandbox.js", sandboxProgramSource(options.library, { fastPath: options.fastPath })],
        ]
      ) {
        const r = context.evalCode(source, name);
        if (r.error) {
          const error = context.dump(r.error);
          r.error.dispose();
          throw new Error(`loading ${name} into the sandbox failed: ${JSON.stringify(error)}`);
        }
        r.value.dispose();
      }
      const api = context.getProp(context.global, "__swamp");
      const sandbox = new QuickJSSandbox(module, memory, runtime, context, api);
      // A fresh library spends tens of ms of CPU on its first expressions (70 ms
      // for a first field access here); under load that crossed the 100 ms
      // deadline of a trivial expression in a run. Pay it now, with no deadline.
      const warmed = sandbox.call("warm", [WARM_UP, WARM_UP_V], Infinity);
      const failed = warmed.kind === "done"
        ? (JSON.parse(warmed.json) as { errors: [number, string][] }).errors[0]?.[1]
        : warmed.kind;
      if (failed !== undefined) throw new Error(`warming the sandbox failed: ${failed}`);
      return sandbox;
    } catch (e) {
      context.dispose();
      runtime.dispose();
      throw e;
    }
  }

  /** True once the WebAssembly instance trapped; the sandbox must be replaced. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Bytes of WebAssembly memory in use (it only grows, up to the cap). */
  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /**
   * Calls `__swamp[method](...args)` with string/number arguments and a
   * string result, stopping at `deadlineMs` from now (Infinity for none).
   */
  call(method: string, args: (string | number)[], deadlineMs: number): CrossingOutcome {
    if (this.#broken) return { kind: "failed", message: "the sandbox is broken" };
    const ctx = this.#context;
    const handles: QuickJSHandle[] = [];
    try {
      const fn = ctx.getProp(this.#api, method);
      handles.push(fn);
      for (const a of args) {
        handles.push(typeof a === "string" ? ctx.newString(a) : ctx.newNumber(a));
      }
      this.#armDeadline(deadlineMs);
      const r = ctx.callFunction(fn, this.#api, ...handles.slice(1));
      this.#armDeadline(Infinity);
      if (r.error) {
        const error = ctx.dump(r.error);
        r.error.dispose();
        const message = String(error?.message ?? JSON.stringify(error));
        if (/interrupted/.test(message)) return { kind: "interrupted" };
        if (/out of memory/i.test(message)) return { kind: "out_of_memory" };
        return { kind: "failed", message };
      }
      const out = ctx.typeof(r.value) === "number"
        ? String(ctx.getNumber(r.value))
        : ctx.getString(r.value);
      r.value.dispose();
      return { kind: "done", json: out };
    } catch (e) {
      // A trap in the WebAssembly instance (e.g. an allocation failure outside
      // QuickJS's checks) leaves it in an unknown state: never reuse it.
      this.#armDeadline(Infinity);
      this.#broken = true;
      const message = e instanceof Error ? e.message : String(e);
      if (/out of memory|memory access|unreachable|abort/i.test(message)) {
        return { kind: "out_of_memory" };
      }
      return { kind: "failed", message };
    } finally {
      if (!this.#broken) { for (const h of handles) if (h.alive) h.dispose(); }
    }
  }

  #armDeadline(deadlineMs: number): void {
    this.#wallDeadline = Date.now() + deadlineMs;
    this.#cpuDeadline = Number.isFinite(deadlineMs) ? threadCpuMs() + deadlineMs : Infinity;
  }

  dispose(): void {
    if (this.#broken) return; // a trapped instance cannot free; drop it for the GC
    this.#api.dispose();
    this.#context.dispose();
    this.#runtime.dispose();
    void this.#module;
  }
}
