import * as z from "zod/mini";

// Where a step runs (`executor:` on a workflow, job or step; the innermost
// wins). docs/reference/workflow-file.md#executor describes every field.

/** Bytes, or a size such as "64m", "1g", "512k" (binary multiples). */
export const memorySize = z.union([
  z.int().check(z.positive()),
  z.string().check(z.regex(/^\d+(\.\d+)?[bkmg]?$/i, "must be bytes or a size like 64m, 1g")),
]);

const loopbackExecutor = z.strictObject({ type: z.literal("loopback") });

const dockerExecutor = z.strictObject({
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

export const executorTypes = ["loopback", "docker"] as const;

export const executor = z.discriminatedUnion("type", [loopbackExecutor, dockerExecutor]);

export type ExecutorConfig = z.infer<typeof executor>;

/** `memory` in bytes. */
export function memoryBytes(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value;
  const match = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(value);
  if (!match) return undefined;
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase()]!;
  return Math.round(Number(match[1]) * unit);
}
