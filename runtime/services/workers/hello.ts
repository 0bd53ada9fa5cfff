import type { AttachRequest, WorkerHello } from "../../../proto/gen/swamp/v1/worker_channel_pb.ts";
import { ErrorCode, SwampError } from "../../errors/mod.ts";

/**
 * The first message of a worker's control stream, which must be its hello
 * and must come within `timeoutMs`: a stream that says nothing, or starts
 * with anything else, is refused.
 */
export async function readHello(
  iterator: AsyncIterator<AttachRequest>,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<WorkerHello> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SwampError(ErrorCode.DEADLINE_EXCEEDED, "no hello within the deadline")),
      timeoutMs,
    );
  });
  try {
    const first = await Promise.race([iterator.next(), late]);
    if (signal.aborted || first.done || first.value.kind.case !== "hello") {
      throw new SwampError(ErrorCode.USAGE, "a worker's control stream starts with a hello", {
        hint: "connect with `swamp worker connect`",
      });
    }
    return first.value.kind.value;
  } finally {
    clearTimeout(timer);
  }
}
