import { ErrorCode, SwampError } from "../errors/mod.ts";
import {
  type Executor,
  type ExecutorFeatures,
  supportedExecutorApiVersions,
} from "../ports/executor.ts";

/** Where a registered executor came from: built into this build, or a repository's module. */
export interface ExecutorOrigin {
  kind: "builtin" | "extension";
  /** The module's path, for an extension. */
  path?: string;
}

const namePattern = /^[a-z][a-z0-9-]{0,31}$/;
const featureNames: (keyof ExecutorFeatures)[] = ["streamsLogs", "canCancel", "resourceLimits"];

/**
 * Every executor a process may run steps with, by name. Built-ins and a
 * repository's extension executors register the same way, through
 * `register`, which refuses an unsupported interface version, a malformed
 * executor and a name already taken. The runtime names no executor: the
 * default (steps with no `executor:` block) is the one registered with
 * `default: true` (the CLI registers loopback so), else the first.
 */
export class ExecutorRegistry extends Map<string, Executor> {
  readonly #origins = new Map<string, ExecutorOrigin>();
  #default?: string;

  /** Adds `executor`; `where` names it in errors ("extensions/executors/x.ts"). */
  register(
    executor: Executor,
    origin: ExecutorOrigin = { kind: "builtin" },
    options: { default?: boolean } = {},
  ): this {
    checkExecutor(executor, origin.path ?? `built-in executor ${String(executor?.name)}`);
    const where = origin.path ?? "a built-in";
    if (this.has(executor.name)) {
      const first = this.#origins.get(executor.name);
      throw new SwampError(
        ErrorCode.EXECUTOR_INVALID,
        `${where} registers an executor named \`${executor.name}\`, a name already taken by ${
          first?.path ?? "a built-in executor"
        }`,
        { hint: "give the executor a name of its own" },
      );
    }
    if (executor.placesSteps && [...this.values()].some((e) => e.placesSteps)) {
      throw new SwampError(
        ErrorCode.EXECUTOR_INVALID,
        `${where}: executor \`${executor.name}\` places steps on workers, and another one does`,
        { hint: "only one registered executor may place steps (placesSteps)" },
      );
    }
    this.set(executor.name, executor);
    this.#origins.set(executor.name, origin);
    if (options.default || this.#default === undefined) this.#default = executor.name;
    return this;
  }

  /** A registry with the same executors, to add more to without changing this one. */
  copy(): ExecutorRegistry {
    const out = new ExecutorRegistry();
    for (const [name, executor] of this) {
      out.register(executor, this.#origins.get(name), { default: name === this.#default });
    }
    return out;
  }

  /** The executor of steps that name none. */
  get defaultName(): string | undefined {
    return this.#default;
  }

  origin(name: string): ExecutorOrigin | undefined {
    return this.#origins.get(name);
  }
}

/** The default executor of a set: the registry's choice, else the first of a plain map. */
export function defaultExecutorName(executors: ReadonlyMap<string, Executor>): string | undefined {
  if (executors instanceof ExecutorRegistry) return executors.defaultName;
  return executors.keys().next().value;
}

/** The executor that places steps on workers, if one is registered. */
export function placingExecutor(executors: ReadonlyMap<string, Executor> | undefined) {
  return [...executors?.values() ?? []].find((e) => e.placesSteps);
}

/**
 * Refuses what cannot be an executor of a supported interface version,
 * naming `where` it came from and what is wrong.
 */
export function checkExecutor(executor: unknown, where: string): asserts executor is Executor {
  const invalid = (what: string, hint: string) =>
    new SwampError(ErrorCode.EXECUTOR_INVALID, `${where}: ${what}`, { hint });
  if (executor === null || typeof executor !== "object") {
    throw invalid(
      `exports no executor (found ${executor === null ? "null" : typeof executor})`,
      "export the executor (or a function of the executor API that returns one) as `default`",
    );
  }
  const e = executor as Partial<Executor>;
  if (typeof e.apiVersion !== "number") {
    throw new SwampError(
      ErrorCode.EXECUTOR_API_UNSUPPORTED,
      `${where}: the executor declares no apiVersion`,
      { hint: `set \`apiVersion\` to one this build supports: ${supportedExecutorApiVersions}` },
    );
  }
  if (!supportedExecutorApiVersions.includes(e.apiVersion)) {
    throw new SwampError(
      ErrorCode.EXECUTOR_API_UNSUPPORTED,
      `${where}: the executor is written for executor API version ${e.apiVersion}; this build ` +
        `supports ${supportedExecutorApiVersions.join(", ")}`,
      { hint: "use a version of the executor built for this swamp, or a swamp that supports it" },
    );
  }
  if (typeof e.name !== "string" || !namePattern.test(e.name)) {
    throw invalid(
      `the executor's name ${JSON.stringify(e.name)} is not a name`,
      "name it with lowercase letters, digits and `-`, starting with a letter (at most 32)",
    );
  }
  const features = e.features as Partial<Record<string, unknown>> | undefined;
  const missing = featureNames.filter((f) => typeof features?.[f] !== "boolean");
  if (missing.length > 0) {
    throw invalid(
      `executor ${e.name} does not declare the features ${missing.join(", ")}`,
      "declare each of streamsLogs, canCancel and resourceLimits as true or false",
    );
  }
  for (const method of ["dispatch", "reap"] as const) {
    if (typeof e[method] !== "function") {
      throw invalid(`executor ${e.name} has no ${method}()`, `implement ${method}()`);
    }
  }
  if (e.settings !== undefined) {
    const schema = e.settings.schema as { parse?: unknown; safeParse?: unknown } | undefined;
    if (typeof schema?.safeParse !== "function" || typeof e.settings.prepare !== "function") {
      throw invalid(
        `executor ${e.name}'s settings have no schema or no prepare()`,
        "build them with defineExecutorSettings(schema, prepare)",
      );
    }
    const other = (schema.safeParse as (v: unknown) => { success: boolean })({
      type: `${e.name}-not`,
    });
    if (other.success) {
      throw invalid(
        `executor ${e.name}'s settings schema accepts a \`type\` other than its name`,
        `make \`type\` the literal "${e.name}" (z.literal("${e.name}")) in a strict object`,
      );
    }
  }
}
