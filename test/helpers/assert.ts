import { deepStrictEqual, match, ok, rejects } from "node:assert/strict";

export function assert(condition: unknown, message?: string): asserts condition {
  ok(condition, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  deepStrictEqual(actual, expected, message);
}

export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  match(text, pattern, message);
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  check: (error: unknown) => boolean = () => true,
): Promise<void> {
  await rejects(fn, (error: unknown) => check(error));
}

/** `fn` throws an error whose message (or hint) contains `fragment`. */
export function assertThrows(fn: () => unknown, fragment: string): void {
  try {
    fn();
  } catch (error) {
    const hint = (error as { hint?: string }).hint ?? "";
    const message = `${error instanceof Error ? error.message : String(error)} ${hint}`;
    ok(message.includes(fragment), `expected an error containing "${fragment}", got: ${message}`);
    return;
  }
  ok(false, `expected an error containing "${fragment}", but nothing was thrown`);
}
