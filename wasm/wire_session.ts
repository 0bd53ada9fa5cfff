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

export class WireSession {
  #ids = new Map<string, number>();
  /** The JSON of each variable the sandbox holds, by name. */
  #held = new Map<string, string>();
  #mode: WireMode | undefined;
  #reset = true;

  /** The `evaluate` request for `exprs` from `from` on; assumes the sandbox will read it. */
  request(
    exprs: string[],
    variables: Record<string, unknown>,
    mode: WireMode,
    from: number,
  ): string {
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
    const parts: string[] = [];
    const held = new Map<string, string>();
    for (const [name, value] of Object.entries(variables)) {
      const text = JSON.stringify(value);
      if (text === undefined) continue; // as JSON.stringify of the whole would drop it
      if (this.#held.get(name) === text) keep.push(name);
      else parts.push(`${JSON.stringify(name)}:${text}`);
      held.set(name, text);
    }
    this.#held = held;
    this.#mode = mode;
    this.#reset = false;
    return `{"reset":${reset},"mode":${JSON.stringify(mode)},"from":${from},` +
      `"exprs":${JSON.stringify(list)},"keep":${JSON.stringify(keep)},"vars":{${parts.join(",")}}}`;
  }

  /**
   * A crossing did not finish: the sandbox may have taken some of the request
   * and not the rest, so the next one starts both sides afresh.
   */
  lost(): void {
    this.#reset = true;
  }
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
