// The ExpressionEvaluator over a QuickJS sandbox: batches, per-expression
// deadlines, and transparent replacement of a sandbox that cannot go on.

import { type CrossingOutcome, QuickJSSandbox } from "./quickjs_sandbox.ts";
import type { CelLibraryName, WireMode, WireResult } from "./sandbox_program.ts";
import type { ExpressionCheck, ExpressionEvaluator, ExpressionResult } from "./types.ts";
import { selectOnHost, variablesNamedIn } from "./host_selectors.ts";
import { decodeResults, type ResultsReply, sizeText, WireSession } from "./wire_session.ts";

/** What the sandbox says a stopped crossing was doing (sandbox_program.ts, progress()). */
interface Progress extends ResultsReply {
  batch: number;
  phase: "request" | "variable" | "expressions";
  variable: string;
  size: number;
  index: number;
}

export interface CelEvaluatorOptions {
  /** Deadline for each expression, in milliseconds of CPU time. Default 100. */
  deadlineMs?: number;
  /** Hard cap on the sandbox's WebAssembly memory. Default 64 MiB. */
  memoryLimitBytes?: number;
  /** The CEL library inside the sandbox. Default "bufbuild" (docs/design/0004). */
  library?: CelLibraryName;
  /**
   * QuickJS's own memory accounting under the hard cap, for cleaner errors.
   * Default true; tests turn it off to show the WebAssembly cap alone holds.
   */
  engineMemoryLimit?: boolean;
  /**
   * Evaluate through compiled JS first, the library only when that cannot be
   * sure of the library's value (docs/design/0007). Default true; tests and
   * bench/cel.ts turn it off to compare.
   */
  fastPath?: boolean;
  /**
   * The longest JSON a variable may have to be read by expressions; a longer
   * one is not sent to the sandbox, and the expressions that read it fail
   * naming it. Default an eighth of the memory limit (8 MiB).
   */
  maxVariableBytes?: number;
  /**
   * Answer plain selections (`inputs.items`) on the host and send the sandbox
   * only the variables an expression names (wasm/host_selectors.ts). Default
   * true; tests turn it off to compare with the library.
   */
  hostSelectors?: boolean;
}

/** What `inspect()` reports, for tests. */
export interface SandboxInspection {
  /** Compiled expressions held. */
  cached: number;
  /** Names on the sandbox's global object. */
  globals: string[];
  /** Evaluations the compiled fast path answered, since the sandbox started. */
  fastPath: number;
  /** Evaluations the compiled code handed back to the library. */
  fallbacks: number;
}

export const DEFAULT_DEADLINE_MS = 100;
export const DEFAULT_MEMORY_LIMIT_BYTES = 64 * 1024 * 1024;
const LIMIT = "expression_limit_exceeded";

export class CelEvaluator implements ExpressionEvaluator {
  readonly deadlineMs: number;
  readonly memoryLimitBytes: number;
  readonly library: CelLibraryName;
  readonly engineMemoryLimit: boolean;
  readonly fastPath: boolean;
  readonly maxVariableBytes: number;
  readonly hostSelectors: boolean;
  /** Numbers each crossing; the sandbox's progress names the one it belongs to. */
  #batches = 0;
  #sandbox: Promise<QuickJSSandbox> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** What each sandbox holds of past batches (wire_session.ts). */
  #sessions = new WeakMap<QuickJSSandbox, WireSession>();
  #closed = false;
  /** How many times a sandbox was replaced after it could not go on. */
  replacements = 0;

  constructor(options: CelEvaluatorOptions = {}) {
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.memoryLimitBytes = options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
    this.library = options.library ?? "bufbuild";
    this.engineMemoryLimit = options.engineMemoryLimit ?? true;
    this.fastPath = options.fastPath ?? true;
    this.maxVariableBytes = options.maxVariableBytes ?? Math.floor(this.memoryLimitBytes / 8);
    this.hostSelectors = options.hostSelectors ?? true;
  }

  /** Creates the sandbox now instead of on first use. */
  async start(): Promise<void> {
    await this.#current();
  }

  check(expressions: string[], knownVariables: string[]): Promise<ExpressionCheck[]> {
    return this.#serial(async () => {
      if (expressions.length === 0) return [];
      const request = JSON.stringify({ exprs: expressions, known: knownVariables });
      const sandbox = await this.#current();
      // Parsing is linear in the text, so one generous deadline covers the batch.
      const out = sandbox.call("check", [request], this.deadlineMs * expressions.length);
      if (out.kind !== "done") {
        if (sandbox.broken) this.#replace();
        const error = `${LIMIT}: checking the expressions did not finish (${out.kind})`;
        return expressions.map(() => ({ ok: false as const, error }));
      }
      return JSON.parse(out.json) as ExpressionCheck[];
    });
  }

  async evaluate(
    expressions: string[],
    variables: Record<string, unknown>,
  ): Promise<ExpressionResult[]> {
    // Plain selections are answered here; the rest go to the sandbox with only the
    // variables they name, so a large value passed through is never copied in.
    const onHost = this.hostSelectors
      ? expressions.map((e) => selectOnHost(e, variables))
      : expressions.map(() => undefined);
    const rest = expressions.filter((_, i) => onHost[i] === undefined);
    const sandboxed = rest.length === 0 ? [] : await this.evaluateWire(
      rest,
      this.hostSelectors ? variablesNamedIn(rest, variables) : variables,
      "json",
    );
    let next = 0;
    const results = onHost.map((found): WireResult =>
      found ? { ok: true, value: found.value } : sandboxed[next++]
    );
    return results.map((r) =>
      r.ok
        ? { ok: true as const, value: r.value }
        : { ok: false as const, error: r.error ?? "unknown error", limitExceeded: !!r.limit }
    );
  }

  /**
   * Evaluates a batch in one crossing. If the host interrupts expression i at
   * its deadline, i is at fault only if it was the first expression of that
   * crossing; otherwise earlier expressions starved it, and it runs again in a
   * new crossing with a fresh deadline. So every expression gets its own full
   * deadline, and a batch without a runaway costs exactly one crossing.
   */
  evaluateWire(
    expressions: string[],
    variables: Record<string, unknown>,
    mode: WireMode,
  ): Promise<WireResult[]> {
    return this.#serial(async () => {
      const results: WireResult[] = [];
      // Variables stopped while they loaded: not sent again in this call. Each crossing
      // either settles at least one expression or adds one of these, so the loop ends.
      const refused = new Map<string, string>();
      while (results.length < expressions.length) {
        const from = results.length;
        const sandbox = await this.#current();
        let session = this.#sessions.get(sandbox);
        if (!session) {
          this.#sessions.set(sandbox, session = new WireSession(this.maxVariableBytes));
        }
        const { request, texts } = session.request(expressions, variables, mode, from, refused);
        const batch = ++this.#batches;
        const outcome = sandbox.call("evaluate", [request, batch, ...texts], this.deadlineMs);
        if (outcome.kind === "done") {
          results.push(...decodeResults(outcome.json));
          break;
        }
        session.lost();
        if (outcome.kind === "failed" && !sandbox.broken) {
          throw new Error(`the CEL sandbox failed: ${outcome.message}`);
        }
        const progress = sandbox.broken ? undefined : sandbox.call("progress", [], this.deadlineMs);
        const p = progress?.kind === "done" ? JSON.parse(progress.json) as Progress : undefined;
        if (p?.batch === batch && p.phase === "variable") {
          // Stopped while a variable loaded: that variable is at fault, not an expression.
          refused.set(p.variable, this.#loadFault(outcome.kind, p.variable, p.size));
        } else if (p?.batch === batch && p.phase === "expressions") {
          // Keep what finished before the stop; the one running is at fault only if it
          // was the first of this crossing (otherwise earlier ones starved it: it runs again).
          results.push(...decodeResults(p));
          if (outcome.kind !== "interrupted" || p.index === from) {
            results.push({ ok: false, error: this.#fault(outcome.kind), limit: true });
          }
        } else {
          // What the sandbox reports is not this crossing's (or nothing): take none of it.
          results.push({ ok: false, error: this.#fault(outcome.kind), limit: true });
        }
        // A trapped instance cannot be trusted, and one that cannot even report
        // its progress is no better: replace it, transparently.
        if (sandbox.broken || progress?.kind !== "done") await this.#replace();
      }
      return results.slice(0, expressions.length);
    });
  }

  /** For tests: what the sandbox holds and how often the fast path answered. */
  inspect(): Promise<SandboxInspection> {
    return this.#serial(async () => {
      const out = (await this.#current()).call("inspect", [], this.deadlineMs);
      if (out.kind !== "done") throw new Error(`inspect failed: ${out.kind}`);
      return JSON.parse(out.json);
    });
  }

  #loadFault(kind: CrossingOutcome["kind"], variable: string, size: number): string {
    const what = `variable ${variable} (${sizeText(size)} of JSON)`;
    return kind === "interrupted"
      ? `${LIMIT}: ${what} took more CPU time to load than the ${this.deadlineMs} ms deadline`
      : `${LIMIT}: ${what} needs more than the ${this.memoryLimitBytes} bytes of memory allowed`;
  }

  #fault(kind: CrossingOutcome["kind"]): string {
    return kind === "interrupted"
      ? `${LIMIT}: the expression used more CPU time than its ${this.deadlineMs} ms deadline`
      : `${LIMIT}: the expression needed more than the ${this.memoryLimitBytes} bytes of memory allowed`;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.catch(() => {});
    const s = this.#sandbox;
    this.#sandbox = undefined;
    if (s) (await s.catch(() => undefined))?.dispose();
  }

  #current(): Promise<QuickJSSandbox> {
    if (this.#closed) return Promise.reject(new Error("the CEL evaluator is closed"));
    if (!this.#sandbox) {
      const created = QuickJSSandbox.create({
        library: this.library,
        memoryLimitBytes: this.memoryLimitBytes,
        engineMemoryLimit: this.engineMemoryLimit,
        fastPath: this.fastPath,
      });
      this.#sandbox = created;
      created.catch(() => {
        if (this.#sandbox === created) this.#sandbox = undefined;
      });
    }
    return this.#sandbox;
  }

  #replace(): Promise<QuickJSSandbox> {
    const old = this.#sandbox;
    this.#sandbox = undefined;
    this.replacements++;
    old?.then((s) => s.dispose(), () => {});
    return this.#current();
  }

  /** Sandboxes run one crossing at a time; callers queue. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }
}
