import * as z from "zod/mini";
import { defineExecutorSettings } from "../../../runtime/mod.ts";

/**
 * `executor: {type: loopback}`: a process group on this host, with the
 * host's environment (what a local process inherits) under the step's
 * identity. It takes no settings; the block exists to undo an outer one.
 */
export const loopbackSettings = defineExecutorSettings(
  z.strictObject({ type: z.literal("loopback") }),
  (_config, step) => ({ env: { ...step.hostEnv, ...step.identity }, complete: (work) => work }),
);
