/**
 * The host-wide ceiling on steps that run at once. Every run on a host, from
 * any repository and any supervisor, draws from the same slots; a slot is
 * held from just before a step's process starts until it has ended, and is
 * given back by the operating system when its holder dies, however it dies.
 */
export interface StepSlots {
  /** How many steps this process lets run on the host at once. */
  readonly limit: number;
  /** Where the slots are counted, for messages ("every slot in DIR is taken"). */
  readonly where: string;
  /** Takes a free slot without waiting; undefined when every slot is held. */
  tryTake(): SlotLease | undefined;
}

export interface SlotLease {
  /** Which slot, 0 ≤ slot < limit. */
  readonly slot: number;
  /** Gives the slot back; calling it again does nothing. */
  release(): void;
}
