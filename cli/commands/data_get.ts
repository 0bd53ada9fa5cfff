import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { GetDataResponseSchema } from "../../proto/gen/swamp/v1/data_service_pb.ts";
import type { CommandContext } from "../context.ts";
import { intFlag, shownTime } from "../data_shapes.ts";
import { cliJson } from "../json_shape.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const [model, name] = ctx.args;
  const version = intFlag(ctx, "version", 1, Number.MAX_SAFE_INTEGER);
  const got = await ctx.data.getData({ model, name, version: BigInt(version ?? 0) });
  const json = cliJson(GetDataResponseSchema, got);
  delete json.versions; // the header says how many; the JSON shape is {"item": {…}}
  ctx.out.document(json);
  const item = got.item;
  if (!ctx.out.json && item) {
    const writer = item.runId
      ? `written by run ${item.runId} step ${item.stepId} attempt ${item.attempt}`
      : "built in";
    ctx.out.info(
      `${item.model} ${item.name} version ${item.version} of ${got.versions.length} · ${item.hash} · ${writer} · ${
        shownTime(item)
      }`,
    );
    const { dump } = await import("js-yaml");
    const attributes = item.attributes ? cliJson(ValueSchema, item.attributes) : null;
    ctx.out.raw(dump(attributes, { lineWidth: -1, noRefs: true }));
  }
  return 0;
}
