// What a command opened (stores, the CEL sandbox), closed when the command
// ends. A command run as its own process leaves them to the process's exit;
// one a waiting supervisor serves (decision 0033) must close them, or every
// command served would leave a database handle or a sandbox behind.

let closers: (() => Promise<void>)[] | undefined;

/** Has `close` called when the served command that opened the resource ends; nothing otherwise. */
export function closeWithCommand(close: () => Promise<void>): void {
  closers?.push(close);
}

/**
 * Runs `body` and then closes, newest first, what it registered with
 * closeWithCommand. `closeEarly`, when given, is handed a function that
 * closes them at once, while `body` still runs: what `body` is waiting on
 * then fails, and it ends soon.
 */
export async function inCommandScope<T>(
  body: () => Promise<T>,
  closeEarly?: (close: () => Promise<void>) => void,
): Promise<T> {
  const mine: (() => Promise<void>)[] = [];
  closers = mine;
  const closeAll = async () => {
    for (const close of mine.splice(0).reverse()) await close().catch(() => {});
  };
  closeEarly?.(closeAll);
  try {
    return await body();
  } finally {
    closers = undefined;
    await closeAll();
  }
}
