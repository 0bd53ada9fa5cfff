// What a case of the Executor contract is (cases.ts, cases_owner.ts) and
// when it does not apply to an executor.
import type { Executor, ExecutorFeatures } from "../../runtime/mod.ts";
import type { Tracker } from "./harness.ts";

/** What a case needs: a declared feature, or a way to see what a step leaves behind. */
export type Need = keyof ExecutorFeatures | "seesLeftovers" | "linux" | "unleased";

/** What the suite knows of the executor under test, found before any case runs. */
export interface Profile {
  features: ExecutorFeatures;
  /** Its steps run as processes of this host (no containerId), seen in /proc. */
  hostProcesses: boolean;
  /** The suite can list what is left of a container step (given by the caller). */
  seesContainers: boolean;
  /** Its steps run under a lease (a worker's): `started` names it. */
  leased?: boolean;
}

export interface ContractCase {
  title: string;
  needs: Need[];
  fn: (ex: Executor, t: Tracker, another: () => Promise<Executor>) => Promise<void>;
}

/** Why `c` does not apply to an executor of `profile`; undefined when it does. */
export function notApplicable(c: ContractCase, profile: Profile): string | undefined {
  for (const need of c.needs) {
    if (need === "linux" && Deno.build.os !== "linux") {
      return `needs Linux (/proc) to read process start times; this is ${Deno.build.os}`;
    }
    if (need === "seesLeftovers") {
      if (profile.hostProcesses && Deno.build.os !== "linux") {
        return "needs Linux (/proc) to see the step's processes are gone";
      }
      if (!profile.hostProcesses && !profile.seesContainers) {
        return "its steps do not run as processes of this host (they run in containers), " +
          "and this suite has no way to list what they leave, so that nothing is left " +
          "cannot be checked";
      }
    }
    if (need === "unleased" && profile.leased) {
      return "its steps run under a lease, which an owner that takes the run over adopts " +
        "instead of starting the step again: the lease, taken before the step is sent, keeps " +
        "it from running twice";
    }
    if (need in profile.features && !profile.features[need as keyof ExecutorFeatures]) {
      return `the executor declares it lacks ${need} (features.${need} is false)`;
    }
  }
  return undefined;
}
