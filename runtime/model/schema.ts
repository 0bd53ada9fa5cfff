import * as z from "zod/mini";

/** A model definition file: models/<type>/<name>.yaml. */
export const modelDefinition = z.strictObject({
  type: z.optional(z.string().check(z.minLength(1))),
  typeVersion: z.optional(z.union([z.string(), z.number()])),
  id: z.optional(z.string().check(z.uuid("must be a UUID"))),
  name: z.string().check(z.minLength(1, "must not be empty")),
  version: z.int().check(z.positive()),
  tags: z.optional(z.record(z.string(), z.string())),
  globalArguments: z.optional(z.record(z.string(), z.unknown())),
  methods: z.optional(z.record(
    z.string(),
    z.strictObject({ arguments: z.optional(z.record(z.string(), z.unknown())) }),
  )),
  inputs: z.optional(z.looseObject({})),
  checks: z.optional(z.unknown()),
  reports: z.optional(z.unknown()),
});

export type ModelDefinitionData = z.infer<typeof modelDefinition>;
