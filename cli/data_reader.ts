// The data a repository's commands and runs read: the store's items, and the
// runtime models (swamp/worker from the server's published roster,
// swamp/enrollment-token and swamp/step-lease from the store).
import { type DataStore, type RunStore, withRuntimeModels } from "../runtime/mod.ts";
import { fileRoster } from "./serve/worker_roster.ts";

export function repoData(root: string, store: RunStore): DataStore {
  const roster = fileRoster(() => Promise.resolve(root));
  return withRuntimeModels(store, () => roster.list());
}
