import { CreateWorkerTokenResponseSchema } from "../../proto/gen/swamp/v1/worker_service_pb.ts";
import { parseLabels } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { parseDuration } from "../duration.ts";
import { when } from "../time_text.ts";
import { labelsText } from "./worker_token_list.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const duration = typeof ctx.flags.duration === "string"
    ? parseDuration(ctx.flags.duration, "--duration")
    : undefined;
  const labels = parseLabels(Array.isArray(ctx.flags.label) ? ctx.flags.label : []);
  const created = await ctx.workers.createWorkerToken({
    name: ctx.args[0],
    labels,
    durationSeconds: duration === undefined ? 0n : BigInt(Math.ceil(duration / 1000)),
  });
  ctx.out.document(
    cliJson(CreateWorkerTokenResponseSchema, created),
  );
  const token = created.token!;
  const labelled = Object.keys(token.labels).length > 0
    ? `labels ${labelsText(token.labels)}, `
    : "";
  ctx.out.info(`created worker token ${token.name} (${labelled}expires ${when(token.expireTime)})`);
  ctx.out.line(created.credential);
  ctx.out.info("this is the only time the secret is shown: store it now (only its hash is kept)");
  ctx.out.info(
    `a worker enrolls with it: swamp worker connect ${ctx.server ?? "URL"} --token NAME.SECRET ` +
      "(the first machine to use it is the only one it accepts)",
  );
  return 0;
}
