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
