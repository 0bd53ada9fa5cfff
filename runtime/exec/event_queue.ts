// A single-consumer queue that turns pushes from several concurrent sources
// (stdout, stderr, the stop sequence, the exit watcher) into one async
// iterable, in push order. A push never waits; a producer that can (a pipe
// reader) waits with `whenBelow` so a slow consumer bounds what is held.

export class EventQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #closed = false;
  #wake: (() => void) | undefined;
  #roomWaiters: { below: number; resolve: () => void }[] = [];

  /** How many items wait to be taken. */
  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#signal();
  }

  /** No more items; the iterator ends once the queued ones are taken. */
  close(): void {
    this.#closed = true;
    this.#signal();
    this.#release(Infinity);
  }

  /** Resolves once fewer than `below` items wait to be taken (or the queue is closed). */
  whenBelow(below: number): Promise<void> {
    if (this.#items.length < below || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push({ below, resolve }));
  }

  #release(length: number): void {
    if (this.#roomWaiters.length === 0) return;
    const still = this.#roomWaiters.filter((w) => length >= w.below);
    for (const w of this.#roomWaiters) if (length < w.below) w.resolve();
    this.#roomWaiters = still;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      if (this.#items.length > 0) {
        const item = this.#items.shift()!;
        this.#release(this.#items.length);
        yield item;
      } else if (this.#closed) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
