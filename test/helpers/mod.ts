// Shared test helpers: temporary repositories and running the real CLI.
export { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "./assert.ts";
export { cliArgv, type CliResult, runCli, runLauncher, spawnCli, swampLauncher } from "./cli.ts";
export { type ForegroundJob, startForeground } from "./foreground.ts";
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
  statusName,
  stepStatuses,
  type StoreKind,
  storeKinds,
  storeKindsWithPostgres,
  within,
  workflowFile,
} from "./runs.ts";
export {
  type CaSignedCert,
  caSignedCert,
  type CertFiles,
  certFingerprint,
  type CertOptions,
  normalizeFingerprint,
  pinOf,
  selfSignedCert,
  type TestCa,
  testCa,
} from "./tls.ts";
// The grpc-js client (./grpc_js.ts) is imported directly by the tests that use it: loading
// @grpc/grpc-js costs every other test process about 90 ms.
export { mintToken, type ServeProcess, serveWithTestCa, startServe } from "./serve.ts";
