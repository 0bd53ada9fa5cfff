// The scratch directories of a worker's steps: <work dir>/lease-<uuid>, new and
// empty for each step that runs in no directory of its own, removed when it
// ends. Making one before the spawn, and removing one on the event loop
// before the step's end was sent, were both on a remote step's way
// (bench/workers.ts, part a). So the next step's directory is made ahead, as
// spare-<uuid>, when a step ends, and renamed when a step takes it; making
// and removing run on Deno's thread pool while the event loop sends the
// step's end. A spare is never a step's directory, so the spares a worker
// that died left behind are removed when the next worker process makes its
// first directory.

export class ScratchDirs {
  #made = false;
  #spare?: string;
  #making = false;

  constructor(readonly workDir: string) {}

  /** A new empty directory for a step. */
  take(): string {
    this.#madeWorkDir();
    const path = `${this.workDir}/lease-${crypto.randomUUID()}`;
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare) {
      try {
        Deno.renameSync(spare, path);
        return path;
      } catch {
        // Removed under a running worker (a cleaned cache dir): made anew below.
      }
    }
    try {
      Deno.mkdirSync(path, { mode: 0o700 });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      Deno.mkdirSync(path, { recursive: true, mode: 0o700 });
    }
    return path;
  }

  /**
   * Makes the next step's directory ahead and removes this one, both on
   * Deno's thread pool: the event loop goes on sending the step's end.
   */
  async release(path: string): Promise<void> {
    let making: Promise<void> | undefined;
    if (!this.#spare && !this.#making) {
      // One spare at a time: steps that end together make one between them.
      this.#making = true;
      const spare = `${this.workDir}/spare-${crypto.randomUUID()}`;
      making = Deno.mkdir(spare, { mode: 0o700 }).then(
        () => void (this.#spare = spare),
        () => {}, // the next step makes its own
      ).finally(() => this.#making = false);
    }
    // Most steps leave it empty.
    await Deno.remove(path).catch(() => Deno.remove(path, { recursive: true }).catch(() => {}));
    await making;
  }

  /** The spare goes with the process. */
  close(): void {
    if (!this.#spare) return;
    try {
      Deno.removeSync(this.#spare);
    } catch {
      // gone already
    }
    this.#spare = undefined;
  }

  #madeWorkDir(): void {
    if (this.#made) return;
    Deno.mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    this.#made = true;
    for (const entry of Deno.readDirSync(this.workDir)) {
      if (!entry.isDirectory || !entry.name.startsWith("spare-")) continue;
      try {
        Deno.removeSync(`${this.workDir}/${entry.name}`);
      } catch {
        // not empty, so not a spare of ours: left alone
      }
    }
  }
}
