// The runtime's public face: everything outside runtime/ imports from here.
export {
  asSwampError,
  codeForGrpcStatus,
  describeCause,
  ErrorCode,
  errorCodeName,
  errorCodeTable,
  exitCodeFor,
  grpcStatus,
  grpcStatusFor,
  SwampError,
} from "./errors/mod.ts";
export type { SwampErrorOptions } from "./errors/mod.ts";
export { type Clock, type IdSource, randomIds, systemClock } from "./ports/mod.ts";
export {
  ActorKind,
  authenticate,
  authorize,
  bindService,
  type CallContext,
  ChangeFeed,
  checkLabels,
  connectFeed,
  defaultTokenSeconds,
  defaultWorkerTokenSeconds,
  type GateTimer,
  localAuthService,
  localRepoService,
  localRunService,
  localWorkerService,
  observedStore,
  observeWrites,
  type OnStored,
  parseLabels,
  parseRole,
  type Principal,
  redeemWorkerToken,
  type RepoLocator,
  repoLocator,
  requiredRoles,
  Role,
  roleName,
  type ServiceClient,
  type ServiceImpl,
  startGateTimer,
  storeFeed,
  systemPrincipal,
  tokenState,
  workerTokenState,
} from "./services/mod.ts";
export {
  anonymousPrincipal,
  authenticatesItself,
  defaultWorkerExecutor,
  type DispatchEvent,
  type DispatchRequest,
  extensionProtocol,
  fits,
  fromRemoteWork,
  type HubEvent,
  hubRoster,
  type KillOutcome,
  multiInstanceProtocol,
  negotiateProtocol,
  type Placement,
  type ProtocolRange,
  supportedProtocol,
  toRemoteWork,
  WorkerHub,
  type WorkerHubOptions,
  type WorkerRoster,
} from "./services/mod.ts";
export { didYouMean, nearest } from "./text/suggest.ts";
export { durationText, parseDurationText } from "./text/duration.ts";
export { sha256HexSync } from "./text/sha256.ts";
export { maskText, minMaskedLength, SecretMask } from "./text/secret_mask.ts";
export {
  bootId,
  hostName,
  isSameProcessAlive,
  processStartTime,
  processState,
} from "./host/mod.ts";
export type {
  AppendRequest,
  ListPage,
  ListQuery,
  LockHolder,
  LockResult,
  OnStoreChange,
  RunStore,
  StoredRun,
} from "./ports/store.ts";
export {
  checkAppend,
  checkNewRun,
  formatListCursor,
  type ListKey,
  newerFirst,
  parseListCursor,
  StoreConflict,
  StoreNotFound,
} from "./ports/store.ts";
export {
  finishedStatuses,
  type PrunedRun,
  type PruneRule,
  qualifiesForPrune,
} from "./ports/prune.ts";
export type { StoredApiToken, TokenStore } from "./ports/tokens.ts";
export {
  type AcquireLease,
  type Lease,
  leaseId,
  type LeaseStore,
  newLeaseNonce,
  nextLease,
  parseLeaseId,
} from "./ports/leases.ts";
export {
  instanceHeartbeatMs,
  type InstanceInfo,
  instanceLapseMs,
  type InstanceRegistry,
  isLapsed,
  type PeerWorker,
} from "./ports/instances.ts";
export { TokenExists } from "./ports/tokens.ts";
export type {
  StoredWorkerToken,
  WorkerTokenBinding,
  WorkerTokenRefusal,
  WorkerTokenStore,
} from "./ports/worker_tokens.ts";
export { WorkerTokenExists } from "./ports/worker_tokens.ts";
export {
  bindWorkerRecord,
  changeTokenRecord,
  revokeApiRecord,
  revokeWorkerRecord,
  type TokenChange,
} from "./ports/token_changes.ts";
export type {
  CancelStageName,
  ContainerSpec,
  Executor,
  ExecutorFeatures,
  GoneCheck,
  RecordedProcess,
  StepEvent,
  StepWork,
} from "./ports/executor.ts";
export type { ExecutorSettings, StepContext, StepSetup } from "./ports/executor.ts";
export {
  defineExecutorSettings,
  EXECUTOR_API_VERSION,
  supportedExecutorApiVersions,
} from "./ports/executor.ts";
export { type ExecutorApi, executorApi } from "./executor_api.ts";
export {
  checkExecutor,
  defaultExecutorName,
  type ExecutorOrigin,
  ExecutorRegistry,
  placingExecutor,
} from "./executors/mod.ts";
export type { SlotLease, StepSlots } from "./ports/step_slots.ts";
export type { SecretSource } from "./ports/vault.ts";
export type {
  ExpressionCheck,
  ExpressionEvaluator,
  ExpressionResult,
} from "./ports/expressions.ts";
export { EXPRESSION_VALUE_MAX_BYTES, EXPRESSION_VALUE_MAX_DEPTH } from "./ports/expressions.ts";
export { createAndSuperviseRun, superviseRun } from "./engine/supervisor.ts";
export type { SupervisorOptions } from "./engine/supervisor.ts";
export type { Takeover } from "./engine/takeover.ts";
export { foldEvents, loadFoldedRun } from "./run/fold.ts";
export { patientStore } from "./services/patient_store.ts";
export { RunMasks } from "./engine/run_masks.ts";
export { vaultCalls } from "./expressions/vault_calls.ts";
export type { NewRun } from "./run/create.ts";
export { loadModelCatalog } from "./model/catalog.ts";
export type {
  ExtensionInspection,
  ExtensionInspector,
  ExtensionMethodSchema,
  ExtensionModelSchemas,
  ExtensionProblem,
  ExtensionResourceSpec,
  JsonSchema,
} from "./ports/extension_schemas.ts";
export {
  checkAgainstSchema,
  type ExtensionModule,
  loadExtensionModels,
  type SchemaIssue,
} from "./model/extensions.ts";
export { findRepoRoot, readRepoConfig, type RepoConfig, type StoreChoice } from "./repo/repo.ts";
export { configureRepoStore } from "./repo/init.ts";
export { openingError, stateError } from "./repo/fs_errors.ts";
export { fileSha256, type FileVersion, fileVersion } from "./repo/file_hash.ts";
export type { LaunchedSupervisor, RunServiceEnv } from "./services/run_env.ts";
export {
  isSettledRun,
  isTerminalRun,
  isTerminalStep,
  jobStatusText,
  parseRunStatus,
  runStatusText,
  stepStatusText,
} from "./run/status.ts";
export { reconcileRun } from "./run/reconcile.ts";
export {
  allowedFailuresText,
  fanOutSummaries,
  type FanOutSummary,
  nameList,
} from "./run/fan_outs.ts";
export { stemOf } from "./engine/fan_out_variables.ts";
export { heartbeatTtlMs } from "./run/liveness.ts";
export {
  couldNotRun,
  EventQueue,
  LineSplitter,
  OutputCapture,
  type SpoolLine,
  SpoolLineSplitter,
} from "./exec/mod.ts";
export type { DataDraft, DataItem, DataQuery, DataStore } from "./ports/data.ts";
export { MAX_DATA_ATTRIBUTES_BYTES } from "./ports/data.ts";
export {
  canonicalJson,
  checkDraft,
  copyItem,
  type DataKey,
  dataLimit,
  dataOrder,
  dataPage,
  DEFAULT_DATA_LIMIT,
  formatDataCursor,
  hashAttributes,
  isRetriedWrite,
  matchesData,
  MAX_DATA_LIMIT,
  parseDataCursor,
  sealDraft,
} from "./data/items.ts";
export { celRecord, type DataReader, dataSnapshot, withDataSnapshots } from "./data/snapshot.ts";
export { RUNTIME_MODELS, type RuntimeSources, withRuntimeModels } from "./data/runtime_models.ts";
export { DATA_FUNCTIONS, dataCallKey, dataCalls } from "./expressions/data_calls.ts";
export { dataItemMessage, localDataService, queryData } from "./services/data_service.ts";
export type {
  ExtensionCall,
  ExtensionMethodRunner,
  PreparedMethod,
} from "./ports/extension_methods.ts";
export {
  type CapabilityDeps,
  CapabilityGrants,
  capabilityService,
  type Grant,
} from "./services/capability.ts";
export {
  type BundleFile,
  bundleFingerprint,
  BundleMemo,
  type ExtensionBundle,
  readBundle,
  safeBundlePath,
} from "./services/extension_bundle.ts";
