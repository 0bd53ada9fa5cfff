// Which appends are flushed to disk before they return (decision record 0006).
//
// Every append survives the writer being killed: the lines are in the page
// cache the moment write() returns, and other processes read them. A flush
// (fdatasync) only adds survival of a power loss or a kernel crash, and
// costs about a millisecond. It is skipped for events that such a crash makes
// moot: a step or job starting (its processes die with the machine, and the
// run is found abandoned either way), a heartbeat, and a lock taken or given
// back (the lock files are the truth, and every lock of an abandoned run is
// released). The next flushed append to the same file carries them to disk too.
import type { RunEvent } from "../../../proto/gen/swamp/v1/event_pb.ts";
import { JobStatus, StepStatus } from "../../../proto/gen/swamp/v1/run_pb.ts";

export function needsFlush(events: readonly RunEvent[]): boolean {
  return events.some((event) => !mootAfterCrash(event));
}

function mootAfterCrash(event: RunEvent): boolean {
  const { payload } = event;
  switch (payload.case) {
    case "heartbeat":
    case "lockChanged":
      return true;
    case "stepStatusChanged":
      return payload.value.to === StepStatus.RUNNING && payload.value.from === StepStatus.PENDING;
    case "jobStatusChanged":
      return payload.value.to === JobStatus.RUNNING && payload.value.from === JobStatus.PENDING;
    default:
      return false;
  }
}
