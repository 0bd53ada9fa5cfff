// The host's side of the evaluate protocol with one sandbox. A batch sends
// only what the sandbox does not hold yet: an expression it has seen travels
// as the small id both sides gave it, and a variable whose JSON is what the
// last batch sent is kept rather than parsed and converted again. In QuickJS
// parsing and converting cost more than evaluating a compiled template
// (docs/design/0007-cel-compiled-fast-path.md); a fan-out's steps share most
// of their variables.

import type { WireMode, WireResult } from "./sandbox_program.ts";

/**
 * Ids are forgotten, on both sides, past this many sources; the sandbox keeps
 * a program per id, so this matches its cache of compiled expressions.
 */
const MAX_IDS = 2_000;

/** One crossing's arguments: the request, then the JSON text of each variable it sends. */
export interface WireRequest {
  request: string;
  texts: string[];
}

export class WireSession {
  #ids = new Map<string, number>();
  /** The JSON of each variable the sandbox holds, by name. */
  #held = new Map<string, string>();
  #mode: WireMode | undefined;
  #reset = true;

  /**
   * `maxVariableChars`: a variable whose JSON is longer is not sent; the
   * expressions that read it fail with an error that names it and its size.
   */
  constructor(readonly maxVariableChars = Infinity) {}

  /**
   * The `evaluate` arguments for `exprs` from `from` on; assumes the sandbox
   * will read them. `refused` names variables not to send, with the error of
   * each (one that could not be loaded before).
   */
  request(
    exprs: string[],
    variables: Record<string, unknown>,
    mode: WireMode,
    from: number,
    refused: ReadonlyMap<string, string> = new Map(),
  ): WireRequest {
    const reset = this.#reset || this.#ids.size > MAX_IDS;
    if (reset) this.#ids.clear();
    if (reset || mode !== this.#mode) this.#held.clear();
    const list = exprs.map((source) => {
      const id = this.#ids.get(source);
      if (id !== undefined) return id;
      this.#ids.set(source, this.#ids.size);
      return source;
    });
    const keep: string[] = [];
    const names: string[] = [];
    const texts: string[] = [];
    const refusals: Record<string, string> = {};
    const held = new Map<string, string>();
    for (const [name, value] of Object.entries(variables)) {
      const already = refused.get(name);
      if (already !== undefined) {
        refusals[name] = already;
        continue;
      }
      const text = JSON.stringify(value);
      if (text === undefined) continue; // as JSON.stringify of the whole would drop it
      if (text.length > this.maxVariableChars) {
        refusals[name] = tooLarge(name, text.length, this.maxVariableChars);
        continue;
      }
      if (this.#held.get(name) === text) keep.push(name);
      else if (nestedDeeperThan(value, MAX_DEPTH)) {
        refusals[name] = tooDeep(name);
        continue;
      } else {
        names.push(name);
        texts.push(text);
      }
      held.set(name, text);
    }
    this.#held = held;
    this.#mode = mode;
    this.#reset = false;
    const request = `{"reset":${reset},"mode":${JSON.stringify(mode)},"from":${from},` +
      `"exprs":${JSON.stringify(list)},"keep":${JSON.stringify(keep)},` +
      `"vars":${JSON.stringify(names)},"refused":${JSON.stringify(refusals)}}`;
    return { request, texts };
  }

  /**
   * A crossing did not finish: the sandbox may have taken some of the request
   * and not the rest, so the next one starts both sides afresh.
   */
  lost(): void {
    this.#reset = true;
  }
}

/** A size as people read it: bytes, KiB or MiB. */
export function sizeText(chars: number): string {
  if (chars >= 1 << 20) return `${(chars / (1 << 20)).toFixed(1)} MiB`;
  if (chars >= 1 << 10) return `${(chars / (1 << 10)).toFixed(1)} KiB`;
  return `${chars} bytes`;
}

/**
 * How deep lists and maps may nest in a variable. The sandbox's stack holds
 * about 400 levels (loading the value, reading it, returning it); past that
 * it traps and must be replaced, so deeper values are refused before they
 * are sent.
 */
export const MAX_DEPTH = 256;

/** True when lists and maps nest more than `limit` levels in `value` (stops looking there). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const inner of Array.isArray(v) ? v : Object.values(v)) {
      if (inner !== null && typeof inner === "object") stack.push([inner, depth + 1]);
    }
  }
  return false;
}

function tooDeep(name: string): string {
  return `expression_limit_exceeded: variable ${name} is nested too deeply: lists and maps ` +
    `may nest at most ${MAX_DEPTH} levels in a value an expression reads`;
}

function tooLarge(name: string, chars: number, max: number): string {
  return `expression_limit_exceeded: variable ${name} is ${sizeText(chars)} of JSON, more than ` +
    `the ${sizeText(max)} an expression may read`;
}

/** Results as the sandbox sends them. */
export interface ResultsReply {
  values: unknown[];
  /** [position, error, limit?] for each that failed. */
  errors: [number, string, number?][];
}

/** The results of a reply, as its JSON or already parsed. */
export function decodeResults(reply: string | ResultsReply): WireResult[] {
  const { values, errors } = typeof reply === "string" ? JSON.parse(reply) as ResultsReply : reply;
  const out: WireResult[] = values.map((value) => ({ ok: true, value }));
  for (const [i, error, limit] of errors) {
    out[i] = limit ? { ok: false, error, limit: true } : { ok: false, error };
  }
  return out;
}
