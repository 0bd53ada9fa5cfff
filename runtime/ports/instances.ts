// The registry of `swamp serve` instances on a store shared between machines
// (decision 0027): each instance registers and heartbeats; an instance whose
// heartbeat is older than the lapse is dead, and its runs are taken over.
// Only stores several machines share have one (RunStore.instances).

/** How often an instance writes its heartbeat. */
export const instanceHeartbeatMs = 1000;
/** A heartbeat older than this (by the store's own clock) means the instance is dead. */
export const instanceLapseMs = 5000;

export interface InstanceInfo {
  id: string;
  host: string;
  pid: number;
  /** When it registered. */
  startTime: Date;
  /** How long ago its last heartbeat was (or its release), by the store's clock. */
  ageMs: number;
  /** It drained and left its runs to the others (decision 0030): dead at once, beating or not. */
  released: boolean;
  /** The workers connected to it, as it last published them. */
  workers: PeerWorker[];
}

/**
 * A worker connected to an instance, as the other instances see it: what
 * placement matches on (not how busy it is, which changes with every step
 * and is not published).
 */
export interface PeerWorker {
  id: string;
  name: string;
  labels: Record<string, string>;
  executors: string[];
  /** Connected and not draining. */
  accepting: boolean;
  concurrency: number;
  protocol: number;
}

export interface InstanceRegistry {
  /** Registers (or re-registers) an instance with a fresh heartbeat. */
  register(instance: { id: string; host: string; pid: number }): Promise<void>;
  /** Writes its heartbeat; false when its row is gone (it was removed as dead). */
  heartbeat(id: string): Promise<boolean>;
  /**
   * Marks a draining instance released: it runs nothing any more and its
   * runs are the others' to take over now, not after the lapse. Its row
   * stays until they have (the instance taking its last run removes it).
   */
  release(id: string): Promise<void>;
  /** Publishes the workers connected to an instance (when they change). */
  publishWorkers(id: string, workers: PeerWorker[]): Promise<void>;
  /** Removes an instance (a drained server, or a dead one whose runs were all taken over). */
  remove(id: string): Promise<void>;
  /** Every registered instance, with its heartbeat's age. */
  list(): Promise<InstanceInfo[]>;
}

/** Whether an instance's heartbeat has lapsed (a released instance's has, at once). */
export function isLapsed(info: InstanceInfo, lapseMs = instanceLapseMs): boolean {
  return info.released || info.ageMs > lapseMs;
}
