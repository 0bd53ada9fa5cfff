// Cleaning up after a run whose owner died: the container a step recorded,
// and any container labelled with the run's id (one created but not yet
// recorded when the owner died).
import type { RecordedProcess } from "../../../runtime/mod.ts";
import { remove } from "./dispatch.ts";
import { client, socketPath } from "./engine.ts";
import { OWNED_LABEL, RUN_LABEL } from "./spec.ts";

export async function reapRecorded(process: RecordedProcess, socket?: string): Promise<string[]> {
  if (!process.containerId) return ["no container recorded; nothing to end"];
  const docker = await client(socketPath(socket));
  return [await remove(docker.getContainer(process.containerId))];
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
