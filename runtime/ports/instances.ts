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
  /** How long ago its last heartbeat was, by the store's clock. */
  ageMs: number;
}

export interface InstanceRegistry {
  /** Registers (or re-registers) an instance with a fresh heartbeat. */
  register(instance: { id: string; host: string; pid: number }): Promise<void>;
  /** Writes its heartbeat; false when its row is gone (it was removed as dead). */
  heartbeat(id: string): Promise<boolean>;
  /** Removes an instance (a drained server, or a dead one whose runs were all taken over). */
  remove(id: string): Promise<void>;
  /** Every registered instance, with its heartbeat's age. */
  list(): Promise<InstanceInfo[]>;
}

/** Whether an instance's heartbeat has lapsed. */
export function isLapsed(info: InstanceInfo, lapseMs = instanceLapseMs): boolean {
  return info.ageMs > lapseMs;
}
