// Shared test helpers: temporary repositories and running the real CLI.
export { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./assert.ts";
export { type CliResult, runCli, spawnCli, swampLauncher } from "./cli.ts";
export { makeTempRepo, type TempRepo, writeFiles } from "./repo.ts";
export { runServiceFor } from "./services.ts";
export {
  eventually,
  gateStep,
  groupAlive,
  repoWith,
  runIdOf,
  type RunJson,
  shellStep,
  statusJson,
  stepStatuses,
  type StoreKind,
  storeKinds,
  workflowFile,
} from "./runs.ts";
