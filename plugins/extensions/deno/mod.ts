// Reads an extension module's schemas by importing it in a Deno subprocess
// that may only read the extensions folder and zod: no network, environment,
// writes, subprocesses or FFI, no npm or remote downloads, a time limit and a
// V8 heap limit. zod is the copy in the checkout's node_modules, mapped for
// the specifiers modules use (`npm:zod@4`, `npm:zod`, `zod`, and subpaths).
import type {
  ExtensionInspection,
  ExtensionInspector,
  ExtensionProblem,
} from "../../../runtime/mod.ts";
import { harnessSource, resultMarker } from "./harness.ts";
import { sandboxFlags } from "./sandbox_flags.ts";
import { runnerCommand, type RunnerOptions } from "./runner.ts";

export interface DenoInspectorOptions {
  /** The zod 4 package directory (node_modules/zod). */
  zodDir: string;
  /** The Deno binary; the running one by default. */
  deno?: string;
  timeoutMs?: number;
  /** V8 old-space limit of the subprocess. */
  memoryMb?: number;
  /** Appends one line per subprocess started (tests count imports with it). */
  spawnLog?: string;
}

const outputLimit = 8 * 1024 * 1024;
/** Bump when this file reads a result differently (cached results carry it). */
const resultFormat = 2;

export function createDenoExtensionInspector(options: DenoInspectorOptions): ExtensionInspector {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const memoryMb = options.memoryMb ?? 256;
  const importMap = dataUrl("application/json", JSON.stringify(zodImports(options.zodDir)));
  const harness = dataUrl("application/javascript", harnessSource);
  return {
    version: `deno-sandbox-${resultFormat}-${
      fnv1a(`${harnessSource}\n${options.zodDir}\n${memoryMb}`)
    }`,
    async inspect(file: string, readableDir: string): Promise<ExtensionInspection> {
      if (options.spawnLog) {
        await Deno.writeTextFile(options.spawnLog, `${file}\n`, { append: true });
      }
      const args = [
        ...sandboxFlags({ importMap, readable: [readableDir, options.zodDir], memoryMb }),
        harness,
        new URL(`file://${file}`).href,
      ];
      let child: Deno.ChildProcess;
      try {
        child = new Deno.Command(options.deno ?? Deno.execPath(), {
          args,
          clearEnv: true,
          env: sandboxEnv(),
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      } catch (error) {
        return failed("extension-load-failed", `could not start Deno: ${error}`, true);
      }
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, timeoutMs);
      const [stdout, stderr, status] = await Promise.all([
        readCapped(child.stdout, child),
        readCapped(child.stderr, child),
        child.status,
      ]);
      clearTimeout(timer);
      if (timedOut) {
        return failed(
          "extension-timeout",
          `importing the module did not finish within ${timeoutMs / 1000} s (stopped)`,
          true,
          "a module's top level must only declare its model: move loops and waiting into a method's execute",
        );
      }
      const line = stdout.split("\n").findLast((l) => l.startsWith(resultMarker));
      if (line) {
        try {
          return JSON.parse(line.slice(resultMarker.length)) as ExtensionInspection;
        } catch {
          // reported below
        }
      }
      if (/out of memory|heap limit/i.test(stderr)) {
        return failed(
          "extension-out-of-memory",
          `importing the module used more than the ${memoryMb} MiB memory limit`,
          true,
          "a module's top level must only declare its model",
        );
      }
      if (/Top-level await promise never resolved/.test(stderr)) {
        return failed(
          "extension-import-failed",
          "the module's top level waits for something that never happens (a top-level await that never resolves)",
          false,
          "a module's top level must only declare its model: move waiting into a method's execute",
        );
      }
      const reason = lastLines(stderr) || `exited with status ${status.code}`;
      return failed(
        "extension-import-failed",
        `importing the module failed: ${reason}`,
        false,
        "a module must finish its top level (no unresolved top-level await); fix the error shown",
      );
    },
  };
}

/** The specifiers extension modules use for zod, mapped to the checkout's copy. */
export function zodImports(zodDir: string): { imports: Record<string, string> } {
  const base = new URL(`file://${zodDir.replace(/\/$/, "")}/`).href;
  const imports: Record<string, string> = {};
  for (const name of ["zod", "npm:zod", "npm:zod@4", "npm:zod@^4", "npm:/zod", "npm:/zod@4"]) {
    imports[name] = `${base}index.js`;
    imports[`${name}/`] = base;
  }
  // Subpath specifiers name a folder; its index.js is the module.
  for (const sub of ["v4", "mini", "v4/mini", "v4/core"]) {
    for (const name of ["zod", "npm:zod", "npm:zod@4", "npm:zod@^4"]) {
      imports[`${name}/${sub}`] = `${base}${sub}/index.js`;
    }
  }
  return { imports };
}

/** Only what Deno itself needs to find its cache; the module can read none of it. */
function sandboxEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR", "PATH"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function dataUrl(type: string, text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:${type};base64,${btoa(binary)}`;
}

async function readCapped(stream: ReadableStream<Uint8Array>, child: Deno.ChildProcess) {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    if (text.length < outputLimit) text += decoder.decode(chunk, { stream: true });
    else {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  return text;
}

function lastLines(text: string): string {
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "").trim();
  return plain.split("\n").slice(0, 3).join(" ").slice(0, 500);
}

function failed(
  rule: string,
  message: string,
  transient: boolean,
  hint = "",
): { problem: ExtensionProblem } {
  return { problem: { rule, message, hint, severity: "error", transient } };
}

/** A short hash of a text (not for security: a cache key part). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
export { type RunnerOptions } from "./runner.ts";

/** The command an extension method's step runs (see runner.ts), with extval's zod mapping. */
export function runnerArgv(options: RunnerOptions): string[] {
  return runnerCommand({ ...options, imports: zodImports(options.zodDir) });
}
