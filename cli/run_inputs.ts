// The inputs of `workflow run` and `workflow evaluate`: --input-file, then
// each --input NAME=VALUE over it. Light on imports: cli/main.ts reads them
// to hand a run to a supervisor waiting for it (docs/design/0032).
import { type FlagValues, UsageError } from "./types.ts";

const read = new WeakMap<FlagValues, Promise<Record<string, unknown>>>();

/**
 * The inputs the flags give, as a map; usage errors for a bad file or pair.
 * Read once per parsed command line: cli/main.ts and the command get the
 * same map, so --input-file is read once and both send the same inputs.
 */
export function readInputs(flags: FlagValues): Promise<Record<string, unknown>> {
  let inputs = read.get(flags);
  if (!inputs) read.set(flags, inputs = readFromFlags(flags));
  return inputs;
}

async function readFromFlags(flags: FlagValues): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {};
  const file = flags["input-file"];
  if (typeof file === "string") {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      throw new UsageError(`cannot read --input-file ${file}: ${(error as Error).message}`);
    }
    const { load } = await import("js-yaml");
    const data = (() => {
      try {
        return load(text);
      } catch (error) {
        throw new UsageError(
          `--input-file ${file} is not YAML or JSON: ${(error as Error).message.split("\n")[0]}`,
        );
      }
    })();
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new UsageError(`--input-file ${file} must hold a map of input names to values`);
    }
    Object.assign(inputs, data);
  }
  for (const pair of (flags.input as string[] | undefined) ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--input takes NAME=VALUE, not \`${pair}\``);
    inputs[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return inputs;
}
