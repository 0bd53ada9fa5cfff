import { ErrorCode, SwampError } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { intFlag, itemJson, openData, shownTime } from "../data_shapes.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const [model, name] = ctx.args;
  const version = intFlag(ctx, "version", 1, Number.MAX_SAFE_INTEGER);
  const { data, close } = await openData(ctx);
  try {
    const item = await data.getData(model, name, version);
    if (!item) {
      const versions = await data.listDataVersions(model, name);
      throw new SwampError(
        ErrorCode.NOT_FOUND,
        versions.length === 0
          ? `no data item ${name} of model ${model}`
          : `data item ${name} of model ${model} has no version ${version}`,
        {
          hint: versions.length === 0
            ? `list what there is: swamp data list --model ${model}`
            : `its versions: ${versions.join(", ")}`,
        },
      );
    }
    ctx.out.document({ item: itemJson(item) });
    if (!ctx.out.json) {
      const versions = await data.listDataVersions(model, name);
      const writer = item.runId
        ? `written by run ${item.runId} step ${item.stepId} attempt ${item.attempt}`
        : "built in";
      ctx.out.info(
        `${item.model} ${item.name} version ${item.version} of ${versions.length} · ${item.hash} · ${writer} · ${
          shownTime(item.createTime)
        }`,
      );
      const { dump } = await import("js-yaml");
      ctx.out.raw(dump(item.attributes, { lineWidth: -1, noRefs: true }));
    }
    return 0;
  } finally {
    await close();
  }
}
