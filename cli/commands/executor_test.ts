// `swamp executor test PATH`: the executor contract against an author's module.
import { ErrorCode, exitCodeFor, SwampError } from "../../runtime/mod.ts";
import type { CommandContext } from "../context.ts";
import { loadExecutorModule } from "../executor_modules.ts";
import { type PromiseResult, runContract } from "../executor_contract/runner.ts";
import { executorJson, featuresText } from "./executor_list.ts";

export async function run(ctx: CommandContext): Promise<number> {
  const path = ctx.args[0];
  // Loaded once here to check it and name it; each promise then gets a fresh executor.
  const first = await loadExecutorModule(path);
  ctx.out.info(
    `testing executor ${first.name} (API version ${first.apiVersion}, features ${
      featuresText(first)
    }) from ${path}`,
  );
  const make = async () => ({
    executor: await loadExecutorModule(path),
    dispose: () => Promise.resolve(),
  });
  const { results } = await runContract(make, (r) => ctx.out.line(resultLine(ctx, r)));
  const count = (what: PromiseResult["result"]) => results.filter((r) => r.result === what).length;
  const [passed, failed, notApplicable] = [
    count("passed"),
    count("failed"),
    count("not_applicable"),
  ];
  ctx.out.document({
    executor: { ...executorJson(undefined, first), path },
    promises: results,
    passed,
    failed,
    notApplicable,
  });
  ctx.out.line();
  ctx.out.line(`${passed} passed, ${failed} failed, ${notApplicable} not applicable`);
  if (failed === 0) return 0;
  // Under --json the document says which failed; the exit status says the rest.
  if (ctx.out.json) return exitCodeFor("executor_contract_failed");
  const names = results.filter((r) => r.result === "failed").map((r) => `"${r.promise}"`);
  throw new SwampError(
    ErrorCode.EXECUTOR_CONTRACT_FAILED,
    `executor ${first.name} breaks ${failed} promise(s) of the executor contract: ${
      names.join(", ")
    }`,
    { hint: "each failed promise is listed above with why; fix the executor and test it again" },
  );
}

function resultLine(ctx: CommandContext, r: PromiseResult): string {
  switch (r.result) {
    case "passed":
      return `${ctx.out.green("passed")}          ${r.promise} (${r.durationMs} ms)`;
    case "failed":
      return `${ctx.out.red("failed")}          ${r.promise}: ${r.reason}`;
    case "not_applicable":
      return `${ctx.out.yellow("not applicable")}  ${r.promise}: ${r.reason}`;
  }
}
