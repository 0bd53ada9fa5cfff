// What a command opened (stores, the CEL sandbox), closed when the command
// ends. A command run as its own process leaves them to the process's exit;
// one a waiting supervisor serves (decision 0033) must close them, or every
// command served would leave a database handle or a sandbox behind.

interface Scope {
  closers: (() => Promise<void>)[];
  /** Closed early (decision 0036): what the command opens from now on is closed at once. */
  closed: boolean;
}

let scope: Scope | undefined;

/** Has `close` called when the served command that opened the resource ends; nothing otherwise. */
export function closeWithCommand(close: () => Promise<void>): void {
  if (scope?.closed) close().catch(() => {});
  else scope?.closers.push(close);
}

/**
 * Runs `body` and then closes, newest first, what it registered with
 * closeWithCommand. `closeEarly`, when given, is handed a function that
 * closes them at once, while `body` still runs, and whatever `body` opens
 * after: what it waits on then fails, and it ends soon.
 */
export async function inCommandScope<T>(
  body: () => Promise<T>,
  closeEarly?: (close: () => Promise<void>) => void,
): Promise<T> {
  const mine: Scope = { closers: [], closed: false };
  scope = mine;
  const closeAll = async () => {
    mine.closed = true;
    for (const close of mine.closers.splice(0).reverse()) await close().catch(() => {});
  };
  closeEarly?.(closeAll);
  try {
    return await body();
  } finally {
    scope = undefined;
    await closeAll();
  }
}
