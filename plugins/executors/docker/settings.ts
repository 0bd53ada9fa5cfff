import * as z from "zod/mini";
import { defineExecutorSettings } from "../../../runtime/mod.ts";

// `executor: {type: docker, ...}` in a workflow file, and the container work
// it makes. docs/reference/workflow-file.md#executor describes every field.

/** Bytes, or a size such as "64m", "1g", "512k" (binary multiples). */
const memorySize = z.union([
  z.int().check(z.positive()),
  z.string().check(z.regex(/^\d+(\.\d+)?[bkmg]?$/i, "must be bytes or a size like 64m, 1g")),
]);

const dockerBlock = z.strictObject({
  type: z.literal("docker"),
  image: z.string().check(z.minLength(1, "must not be empty")),
  /** The program a script runs with, instead of `/bin/sh -c`. */
  command: z.optional(z.array(z.string()).check(z.minLength(1, "must not be empty"))),
  env: z.optional(z.record(z.string(), z.string())),
  workdir: z.optional(z.string().check(z.regex(/^\//, "must be an absolute path"))),
  volumes: z.optional(
    z.array(
      z.string().check(
        z.regex(/^\/[^:]*:\/[^:]*(:(ro|rw))?$/, "must be /host/path:/container/path[:ro|rw]"),
      ),
    ),
  ),
  user: z.optional(z.string()),
  memory: z.optional(memorySize),
  cpus: z.optional(z.number().check(z.positive())),
  network: z.optional(z.enum(["none", "host"])),
  pull: z.optional(z.enum(["never", "if-missing"])),
  socket: z.optional(z.string()),
});

export const dockerSettings = defineExecutorSettings(dockerBlock, (config, step) => ({
  // A container gets none of the host's environment: only what the workflow gives it.
  env: { ...config.env, ...step.identity },
  complete: (work) => ({
    ...work,
    // The repository is not mounted unless asked for: the step starts in the image's
    // workdir, or the one configured.
    cwd: undefined,
    container: {
      image: config.image,
      shell: config.command,
      workdir: config.workdir,
      volumes: config.volumes,
      user: config.user,
      network: config.network,
      pull: config.pull,
      socket: config.socket,
    },
    limits: { memoryBytes: memoryBytes(config.memory), cpus: config.cpus },
    labels: step.labels,
  }),
}));

/** `memory` in bytes. */
function memoryBytes(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value;
  const match = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(value);
  if (!match) return undefined;
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()]!;
  return Math.round(Number(match[1]) * unit);
}
