// Knowing that a step ran out of memory from the engine's own `oom` event,
// watched from before the container starts.
//
// Why not `State.OOMKilled` alone: the engine learns of a kill from its
// shim, which watches the container's memory cgroup. On cgroup v1
// (containerd's runc shim) a notification read after the cgroup is gone is
// dropped, and the cgroup goes as soon as the killed step exits; under CPU
// load the shim reads late, and the engine then reports exit 137 with
// `OOMKilled` false for good (seen in full test runs). So, when the engine
// supports it, a step with a memory limit runs with the kernel's OOM killer
// off for its cgroup (`OomKillDisable`): at its limit the step is held, not
// killed, its cgroup stays, the `oom` event always comes, and this watch
// then ends the container itself. Where the engine cannot hold a step
// (cgroup v2), the kernel kills as usual and the event is taken as it comes.
import type { Docker } from "./engine.ts";

export interface OomWatch {
  /** Whether the engine reported the container out of memory. */
  readonly seen: boolean;
  close(): void;
}

/**
 * Watches container `id` for the engine's `oom` event; `onOom` is called
 * once, when the first arrives. Resolves once the engine streams events, so
 * a container started after it cannot have an event this watch misses. A
 * stream that ends early is opened again from the time the watch began (the
 * engine replays what was missed).
 */
export async function watchOom(docker: Docker, id: string, onOom: () => void): Promise<OomWatch> {
  const since = Math.floor(Date.now() / 1000) - 1;
  let seen = false;
  let closed = false;
  let stream: NodeJS.ReadableStream | undefined;
  const open = async (from?: number) => {
    const opened = await docker.getEvents({
      ...(from === undefined ? {} : { since: from }),
      filters: { type: ["container"], container: [id], event: ["oom"] },
    }) as NodeJS.ReadableStream;
    if (closed) return destroy(opened);
    stream = opened;
    let pending = "";
    opened.on("data", (chunk: Uint8Array | string) => {
      pending += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim() || !isOom(line)) continue;
        if (!seen) {
          seen = true;
          onOom();
        }
      }
    });
    const reopen = () => {
      if (!closed && stream === opened) void open(since).catch(() => {});
    };
    opened.on("end", reopen);
    opened.on("error", reopen);
  };
  await open();
  return {
    get seen() {
      return seen;
    },
    close() {
      closed = true;
      if (stream) destroy(stream);
    },
  };
}

function isOom(line: string): boolean {
  try {
    const event = JSON.parse(line) as { Action?: string; status?: string };
    return event.Action === "oom" || event.status === "oom";
  } catch {
    return false;
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as unknown as { destroy?: () => void }).destroy?.();
}
