// The shape of every `--json` document (decision record 0016): the service
// response's fields under their API names, made plain for scripts. Enum
// values are their short lowercase names (`succeeded`, as `--status` takes
// them), 64-bit integers are numbers, and a field without a value is absent
// rather than "", 0 or an unspecified enum. Booleans, lists and maps are
// always present; a zero that is a value (an exit status, a forEach index, a
// count) is kept.
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Message,
  ScalarType,
  toJson,
} from "@bufbuild/protobuf";

/** Numeric fields whose zero is a value, by message type: when to keep it. */
const zeroIsValue: Record<string, Record<string, (message: Record<string, unknown>) => boolean>> = {
  "swamp.v1.Step": {
    // Only a step that ran has exited; one still pending has no exit status.
    exitCode: (step) => step.process !== undefined && endedStep(step.status as number),
    itemIndex: () => true,
  },
  "swamp.v1.StepStatusChanged": {
    exitCode: (change) => change.from === stepRunning && endedStep(change.to as number),
  },
  "swamp.v1.ReconcileRunsResponse": { examined: () => true },
  "swamp.v1.PruneRunsResponse": {
    bytesFreed: () => true,
    skipped: () => true,
    examined: () => true,
  },
  "swamp.v1.WorkflowInfo": { jobCount: () => true, stepCount: () => true },
  "swamp.v1.WorkflowValidation": { jobCount: () => true, stepCount: () => true },
};

/** Values that stand for "none" although they are not zero. */
const noneValue: Record<string, Record<string, number>> = {
  "swamp.v1.Step": { itemIndex: -1 },
};

// StepStatus numbers (proto/swamp/v1/run.proto); the enum is not imported so
// this file stays free of generated code and loads fast.
const stepRunning = 3;
const endedStep = (status: number) => status === 5 || status === 6 || status === 8;

/** The `--json` document of `message`. */
export function cliJson(schema: DescMessage, message: Message): JsonObject {
  return plainMessage(schema, message as unknown as Record<string, unknown>);
}

function plainMessage(desc: DescMessage, message: Record<string, unknown>): JsonObject {
  if (desc.typeName.startsWith("google.protobuf.")) {
    // Struct and Value fields hold plain JSON already; Timestamps become RFC 3339 text.
    if (!("$typeName" in message)) return message as JsonObject;
    return toJson(desc, message as unknown as Message) as JsonObject;
  }
  const out: JsonObject = {};
  for (const field of desc.fields) {
    const value = fieldValue(field, message);
    if (value === undefined) continue;
    const plain = plainField(desc, field, value, message);
    if (plain !== undefined) out[field.jsonName] = plain;
  }
  return out;
}

function fieldValue(field: DescField, message: Record<string, unknown>): unknown {
  if (!field.oneof) return message[field.localName];
  const oneof = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return oneof?.case === field.localName ? oneof.value : undefined;
}

function plainField(
  desc: DescMessage,
  field: DescField,
  value: unknown,
  message: Record<string, unknown>,
): JsonValue | undefined {
  switch (field.fieldKind) {
    case "list":
      return (value as unknown[]).map((item) => element(field, item));
    case "map": {
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        out[key] = element(field, item);
      }
      return out;
    }
    case "message":
      return plainMessage(field.message, value as Record<string, unknown>);
    case "enum":
      return enumName(field.enum, value as number, field.oneof !== undefined);
    case "scalar": {
      const keep = zeroIsValue[desc.typeName]?.[field.localName];
      const none = noneValue[desc.typeName]?.[field.localName];
      if (none !== undefined && Number(value) === none) return undefined;
      return scalar(field.scalar, value, field.oneof !== undefined || (keep?.(message) ?? false));
    }
  }
}

/** An element of a list or a value of a map: always there, zero or not. */
function element(field: DescField & { fieldKind: "list" | "map" }, item: unknown): JsonValue {
  // The descriptor names what the elements are in the same three properties for both kinds.
  const kind = field.fieldKind === "list" ? field.listKind : field.mapKind;
  const of = field as unknown as { message: DescMessage; enum: DescEnum; scalar: ScalarType };
  if (kind === "message") return plainMessage(of.message, item as Record<string, unknown>);
  if (kind === "enum") return enumName(of.enum, item as number, true) ?? null;
  return scalar(of.scalar, item, true) ?? null;
}

/** `RUN_STATUS_SUCCEEDED` as `succeeded`; the unspecified value (0) is no value. */
function enumName(desc: DescEnum, value: number, keepZero: boolean): string | undefined {
  if (value === 0 && !keepZero) return undefined;
  const found = desc.value[value];
  // A number this build does not know (a newer server): the number itself.
  return found ? found.localName.toLowerCase() : String(value);
}

function scalar(type: ScalarType, value: unknown, keepZero: boolean): JsonValue | undefined {
  switch (type) {
    case ScalarType.BOOL:
      return value as boolean;
    case ScalarType.STRING:
      return value === "" && !keepZero ? undefined : value as string;
    case ScalarType.BYTES: {
      const bytes = value as Uint8Array;
      if (bytes.length === 0 && !keepZero) return undefined;
      return btoa(String.fromCharCode(...bytes));
    }
    default: {
      const number = typeof value === "bigint" ? value : Number(value);
      if (number === 0 || number === 0n) return keepZero ? 0 : undefined;
      if (typeof number === "bigint") {
        return number <= BigInt(Number.MAX_SAFE_INTEGER) &&
            number >= BigInt(Number.MIN_SAFE_INTEGER)
          ? Number(number)
          : String(number);
      }
      return Number.isFinite(number) ? number : String(number);
    }
  }
}
