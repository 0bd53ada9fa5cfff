// An unbounded single-consumer queue that turns pushes from several
// concurrent sources (stdout, stderr, the stop sequence, the exit watcher)
// into one async iterable, in push order.

export class EventQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #closed = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#signal();
  }

  /** No more items; the iterator ends once the queued ones are taken. */
  close(): void {
    this.#closed = true;
    this.#signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      if (this.#items.length > 0) {
        yield this.#items.shift()!;
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
