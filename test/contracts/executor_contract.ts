// The executor contract as Deno tests: each promise of the one suite in
// cli/executor_contract/ (also run by `swamp executor test`) is a test, and
// one that does not apply to the executor is reported ignored with why:
//   await executorContract("loopback", features, async () => ({ executor, dispose }));
import type { ExecutorFeatures } from "../../runtime/mod.ts";
import {
  contractCases,
  type Made,
  notApplicable,
  profileOf,
  runCase,
} from "../../cli/executor_contract/runner.ts";
import { assertEquals } from "../helpers/mod.ts";

export async function executorContract(
  name: string,
  features: ExecutorFeatures,
  make: () => Promise<Made>,
): Promise<void> {
  const profile = await profileOf(make);
  // The features the cases are chosen by are the ones the caller expects.
  assertEquals(profile.features, features);
  for (const c of contractCases) {
    const skip = notApplicable(c, profile);
    Deno.test({
      name: `executor contract (${name}): ${c.title}${skip ? ` (ignored: ${skip})` : ""}`,
      ignore: skip !== undefined,
      fn: () => runCase(c, make, profile),
    });
  }
}
