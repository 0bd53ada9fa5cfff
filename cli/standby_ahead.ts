// Where `workflow run` would create its run, it takes the answer of the
// supervisor it handed the run to ahead (cli/standby_client.ts), if any:
// the run as that supervisor created it, or the error it gave, exactly as
// the command would have got them creating the run itself (docs/design/0032).
import { fromBinary } from "@bufbuild/protobuf";
import { RunSchema } from "../proto/gen/swamp/v1/run_pb.ts";
import { DiagnosticSchema } from "../proto/gen/swamp/v1/errors_pb.ts";
import type { Run } from "../proto/gen/swamp/v1/run_pb.ts";
import { SwampError } from "../runtime/mod.ts";
import type { LaunchedSupervisor } from "../runtime/mod.ts";
import { takeAhead } from "./standby_client.ts";
import { fromBase64, type StandbyReply } from "./standby_wire.ts";

/**
 * The run a waiting supervisor created for `request`, and that supervisor
 * to watch until it has claimed it; undefined when none took the request.
 * A request that differs from the one sent ahead is not taken: closing the
 * connection without acknowledging the run makes the supervisor cancel it.
 */
export async function takeSubmittedAhead(
  request: { workflow?: string; inputs?: unknown; detach?: boolean },
): Promise<{ run: Run; launched: LaunchedSupervisor } | undefined> {
  const ahead = takeAhead();
  if (!ahead) return undefined;
  const sent = ahead.request;
  const same = sent.workflow === request.workflow && sent.detach === (request.detach ?? false) &&
    JSON.stringify(sent.inputs) === JSON.stringify(request.inputs ?? {});
  if (!same) {
    ahead.close();
    return undefined;
  }
  const reply = await ahead.next().catch(() => undefined) as StandbyReply | undefined;
  if (!reply || "declined" in reply || "claimed" in reply) {
    ahead.close();
    return undefined;
  }
  if ("error" in reply) {
    ahead.close();
    const { code, message, hint, diagnostics, cause } = reply.error;
    throw new SwampError(code, message, {
      hint,
      diagnostics: diagnostics.map((d) => fromBinary(DiagnosticSchema, fromBase64(d))),
      cause: cause ? new Error(cause) : undefined,
    });
  }
  const run = fromBinary(RunSchema, fromBase64(reply.created));
  await ahead.send({ taken: true });
  const exited = ahead.next().then(
    (line) => line && "claimed" in (line as object) ? {} : { failed: "closed its connection" },
    () => ({ failed: "closed its connection" }),
  );
  return {
    run,
    launched: {
      exited,
      command: `the supervisor (pid ${reply.pid}) that waited for this repository's next run`,
      release: ahead.close,
    },
  };
}
