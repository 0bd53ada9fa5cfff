// Cleaning up after a run whose owner died: the container a step recorded,
// and any container labelled with the run's id (one created but not yet
// recorded when the owner died); and, before such a step starts again,
// confirming its container runs nothing.
import type { GoneCheck, RecordedProcess } from "../../../runtime/mod.ts";
import { remove } from "./dispatch.ts";
import { client, socketPath, statusOf } from "./engine.ts";
import { OWNED_LABEL, RUN_LABEL } from "./spec.ts";

export async function reapRecorded(process: RecordedProcess, socket?: string): Promise<string[]> {
  if (!process.containerId) return ["no container recorded; nothing to end"];
  const path = socketPath(socket);
  const container = (await client(path)).getContainer(process.containerId);
  const short = process.containerId.slice(0, 12);
  // Told apart so that a caller keeps what it could not end for a later try.
  try {
    await container.inspect();
  } catch (error) {
    if (statusOf(error) === 404) return [`container ${short} was already gone`];
    return [
      `could not reach the Docker engine at ${path} to end container ${short}: ` +
      (error as Error).message,
    ];
  }
  return [await remove(container)];
}

export async function reapRun(runId: string, socket?: string): Promise<string[]> {
  const docker = await client(socketPath(socket));
  let found: { Id: string }[];
  try {
    found = await docker.listContainers({
      all: true,
      filters: { label: [`${OWNED_LABEL}=true`, `${RUN_LABEL}=${runId}`] },
    });
  } catch (error) {
    return [`could not list the run's containers: ${(error as Error).message}`];
  }
  const lines: string[] = [];
  for (const info of found) lines.push(await remove(docker.getContainer(info.Id)));
  return lines;
}

export async function confirmRecordedGone(
  process: RecordedProcess,
  socket?: string,
): Promise<GoneCheck> {
  if (!process.containerId) {
    return { gone: false, detail: "no container recorded, so there is nothing to look for" };
  }
  const short = process.containerId.slice(0, 12);
  const docker = await client(socketPath(socket));
  try {
    const { State: state } = await docker.getContainer(process.containerId).inspect();
    if (state.Running || state.Paused || state.Restarting) {
      return { gone: false, detail: `container ${short} is still ${state.Status}` };
    }
    return { gone: true, detail: `container ${short} is ${state.Status}: nothing in it runs` };
  } catch (error) {
    if (statusOf(error) === 404) return { gone: true, detail: `container ${short} is removed` };
    return {
      gone: false,
      detail: `could not look at container ${short}: ${(error as Error).message}`,
    };
  }
}
