import { runCli } from "./cli.ts";
import { capability } from "./capabilities.ts";
import { sharedPostgres } from "./postgres.ts";

export type StoreKind = "file" | "sqlite" | "postgres";
export const storeKinds: StoreKind[] = ["file", "sqlite"];

/** One throwaway cluster per test file for the repositories of `repoWith("postgres")`. */
const postgresCluster = sharedPostgres();

/**
 * storeKinds and, where the machine has PostgreSQL, "postgres"; where it has
 * not, a test named after `what` is registered as ignored, saying why.
 */
export async function storeKindsWithPostgres(what: string): Promise<StoreKind[]> {
  const postgres = await capability("postgres");
  if (postgres.available) return [...storeKinds, "postgres"];
  Deno.test({ name: `[postgres] ${what} (skipped: ${postgres.reason})`, ignore: true, fn() {} });
  return storeKinds;
}

/**
 * `swamp repo init ROOT` with `store` (on the database `dsn` for PostgreSQL),
 * then `files` (paths relative to ROOT) written into it.
 */
export async function initRepo(
  root: string,
  store: StoreKind,
  files: Record<string, string>,
  dsn?: string,
): Promise<void> {
  const init = await runCli([
    "repo",
    "init",
    root,
    "--store",
    store,
    ...(dsn ? ["--dsn", dsn] : []),
    "-q",
  ]);
  if (init.code !== 0) throw new Error(`repo init failed: ${init.stderr}`);
  for (const [path, text] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
}

/** A repository with the given store and files, removed on dispose. */
export async function repoWith(store: StoreKind, files: Record<string, string>) {
  const root = await Deno.makeTempDir({ prefix: `swamp-run-${store}-` });
  // PostgreSQL: a database of its own on this file's cluster.
  const dsn = store === "postgres"
    ? await (await postgresCluster.get()).createDatabase()
    : undefined;
  await initRepo(root, store, files, dsn);
  return {
    root,
    cli: (
      args: string[],
      env?: Record<string, string>,
      options: { interleaved?: boolean; timeoutMs?: number } = {},
    ) => runCli([...args, "--repo", root], { cwd: root, env, ...options }),
    async [Symbol.asyncDispose]() {
      // Whatever a failed test left running in this repository is cancelled
      // (or, if its owner died, reconciled) before the repository goes away.
      const active = await runCli([
        "workflow",
        "list",
        "--json",
        "--repo",
        root,
        "--status",
        "pending",
        "--status",
        "running",
        "--status",
        "cancelling",
      ]).catch(() => undefined);
      for (const run of (active?.json as { runs?: { id: string }[] } | undefined)?.runs ?? []) {
        await runCli(["workflow", "cancel", run.id, "--repo", root, "-q"], {
          env: { SWAMP_CANCEL_GRACE_MS: "200" },
        })
          .catch(() => {});
      }
      await runCli(["workflow", "reconcile", "--repo", root, "-q"]).catch(() => {});
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** A one-job workflow file from step YAML lines (each step a list item, 6-space indented). */
export function workflowFile(name: string, steps: string, extra = ""): string {
  const id = crypto.randomUUID();
  return `id: ${id}\nname: ${name}\n${extra}jobs:\n  - name: main\n    steps:\n${steps}`;
}

/** A command/shell step. */
export function shellStep(name: string, script: string, more = "", model = name): string {
  return `      - name: ${name}\n${more}        task:\n          type: model_method\n          modelType: command/shell\n          modelName: ${model}\n          methodName: execute\n          inputs:\n            run: ${
    JSON.stringify(script)
  }\n`;
}

/** `promise`, or a rejection naming `what` after `ms`: a bound on a hang, not a timing assertion. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Polls until `check` returns a value, or fails after `limitMs` (a bound, not a timing assertion). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  limitMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits (as `eventually` does) until `path` exists, as a step that touches it says it has started. */
export async function fileAppears(path: string, limitMs = 30_000): Promise<void> {
  await eventually(`${path} to exist`, async () => {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      return undefined;
    }
  }, limitMs);
}

/** Whether any process is alive (not a zombie) in process group `pgid`. */
export async function groupAlive(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) members.push(Number(entry.name));
    } catch {
      // gone while reading
    }
  }
  return members;
}

export interface RunJson {
  id: string;
  status: string;
  reason?: string;
  attempt?: number;
  actor?: string;
  actorKind?: string;
  parentRunId?: string;
  owner?: { pid: number };
  locks?: string[];
  waiting?: { lock?: string; holderRunId?: string };
  workflowName?: string;
  createTime?: string;
  endTime?: string;
  workflowId?: string;
  steps: {
    id: string;
    name: string;
    job: string;
    itemIndex?: number;
    placement?: {
      target: string;
      labels: Record<string, string>;
      workerId?: string;
      workerName?: string;
      leaseId?: string;
      leaseEpoch?: number;
    };
    status: string;
    reason?: string;
    outputs?: Record<string, unknown>;
    process?: { pid: number; pgid: number };
    waiting?: { lock?: string; holderRunId?: string; retry?: string };
    retry?: { attempt: number; attempts: number; nextTime?: string };
    startTime?: string;
    endTime?: string;
    attempt?: number;
    childRunId?: string;
    approval?: {
      prompt: string;
      approvers?: string[];
      forbidRunActor?: boolean;
      expiresTime?: string;
      onTimeout?: string;
      decision?: {
        approved: boolean;
        actor: string;
        actorKind?: string;
        reason?: string;
        time: string;
      };
    };
  }[];
  jobs?: { name: string; status: string; endTime?: string }[];
  cancelTimeline: { stage: string; stepId?: string }[];
}

/** `workflow status --json` of a run. */
export async function statusJson(
  repo: { cli: (args: string[]) => Promise<{ code: number; json: unknown; stderr: string }> },
  runId: string,
): Promise<RunJson> {
  const result = await repo.cli(["workflow", "status", runId, "--json"]);
  if (result.code !== 0) throw new Error(`status failed: ${result.stderr}`);
  return (result.json as { run: RunJson }).run;
}

/** A manual_approval step (6-space list indent, like shellStep). */
export function gateStep(name: string, more = "", gate = ""): string {
  return `      - name: ${name}\n${more}        task:\n          type: manual_approval\n          prompt: ${
    JSON.stringify(`Approve ${name}?`)
  }\n${gate}`;
}

/** The first line of a CLI run's stdout: the run id. */
export function runIdOf(result: { stdout: string; stderr: string }): string {
  const id = result.stdout.split("\n")[0];
  if (!/^[0-9a-f-]{36}$/.test(id)) {
    throw new Error(`no run id in: ${result.stdout}${result.stderr}`);
  }
  return id;
}

/** Each step's status by id, in capitals as the human output prints them. */
export function stepStatuses(run: RunJson): Record<string, string> {
  return Object.fromEntries(run.steps.map((s) => [s.id, s.status.toUpperCase()]));
}

/** A status of the `--json` output (its short lowercase name), "" when the field is absent. */
export function statusName(status: string | undefined): string {
  return status ?? "";
}

/**
 * A workflow `chain` of `steps` sequential shell steps s1..sN, each waiting
 * `sleepS` seconds and then appending its name to `marks`: what ran, and how
 * often, can be read back from that file.
 */
export function markedChain(steps: number, marks: string, sleepS: number): string {
  const lines = [
    `id: ${crypto.randomUUID()}`,
    "name: chain",
    "jobs:",
    "  - name: main",
    "    steps:",
  ];
  for (let i = 1; i <= steps; i++) {
    lines.push(
      `      - name: s${i}`,
      ...(i > 1 ? [`        dependsOn: [{step: s${i - 1}, condition: {type: always}}]`] : []),
      "        task:",
      "          type: model_method",
      "          modelType: command/shell",
      `          modelName: s${i}`,
      "          methodName: execute",
      "          inputs:",
      `            run: ${JSON.stringify(`sleep ${sleepS}; echo s${i} >> ${marks}`)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
