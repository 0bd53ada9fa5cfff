// The control channel's protocol versions: each side speaks an inclusive
// range, and a hello is accepted with the highest version in both.
import { ErrorCode, SwampError } from "../../errors/mod.ts";

/** A range of protocol versions, inclusive. */
export interface ProtocolRange {
  min: number;
  max: number;
}

/** The versions of worker_channel.proto this swamp speaks (worker and orchestrator alike). */
export const supportedProtocol: ProtocolRange = { min: 1, max: 3 };

/**
 * The first version whose workers run extension methods (RemoteStepWork.extension):
 * a worker of version 1 would run the step's command instead, so it is never given one.
 */
export const extensionProtocol = 2;

/**
 * The first version whose workers connect to several instances at once: they
 * report their load elsewhere (WorkerLoad) and move a lease to the instance
 * that took its run over (AdoptLease). Older workers are never sent AdoptLease.
 */
export const multiInstanceProtocol = 3;

const text = (range: ProtocolRange) =>
  range.min === range.max ? `${range.min}` : `${range.min}..${range.max}`;

/**
 * The highest version both ranges hold; protocol_mismatch naming both ranges
 * when they do not overlap (or the worker's is empty).
 */
export function negotiateProtocol(worker: ProtocolRange, server = supportedProtocol): number {
  const version = Math.min(worker.max, server.max);
  if (worker.min <= worker.max && version >= Math.max(worker.min, server.min)) return version;
  const older = worker.max < server.min ? "worker" : "orchestrator";
  throw new SwampError(
    ErrorCode.PROTOCOL_MISMATCH,
    `the worker speaks protocol ${text(worker)}, the orchestrator speaks ${text(server)}: ` +
      "no version in common",
    {
      hint: `upgrade the ${older} (the side with the older range) so the ranges overlap`,
    },
  );
}
