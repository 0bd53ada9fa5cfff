// How the engine runs one method of an extension model type: the runner
// prepares a command (a sandboxed subprocess the step's executor runs like any
// command/shell step) and a scoped credential for the capability service,
// and after the process ends says what the method returned and wrote.
import type { DataItem } from "./data.ts";

/** One call of an extension method by one attempt of one step. */
export interface ExtensionCall {
  runId: string;
  stepId: string;
  attempt: number;
  repoRoot: string;
  /** The module's path relative to the repository root. */
  module: string;
  definition: { id: string; name: string; version: string; type: string };
  methodName: string;
  globalArgs: Record<string, unknown>;
  /** The method's rendered arguments. */
  args: Record<string, unknown>;
  /** The resource specs the type declares: the only ones it may write. */
  resourceSpecs: string[];
  /** `vault/key` pairs the step declared: the only secrets it may read. */
  secrets: string[];
  /** Heap limit of the subprocess, MiB. */
  memoryMb?: number;
  /** Called with each secret handed to the method, so the run's logs mask it. */
  onSecret?: (value: string) => void;
  /**
   * The step is placed on a remote worker: its credential is bound to the
   * lease a worker takes, and the method's code goes to the worker as a bundle.
   */
  remote?: boolean;
}

/** A prepared call: run `argv` with `env`, then `end()` once it has exited. */
export interface PreparedMethod {
  argv: string[];
  env: Record<string, string>;
  /** For a placed step: what its worker runs instead of `argv` (StepWork.extension). */
  extension?: { fingerprint: string; module: string; memoryMb: number };
  /** Revokes the credential; what the method returned (`Finish`) and wrote. */
  end(): Promise<{ finished: boolean; result?: unknown; error?: string; writes: DataItem[] }>;
}

export interface ExtensionMethodRunner {
  prepare(call: ExtensionCall): Promise<PreparedMethod>;
  /**
   * A placed step adopted from a dead owner instance (0027): its worker still
   * holds the credential whose SHA-256 is `adoptedHash`; accept it as the one
   * `credential` (this instance's, from `prepare`) until that one ends (0029).
   */
  adopt?(credential: string, adoptedHash: string): Promise<void>;
}
