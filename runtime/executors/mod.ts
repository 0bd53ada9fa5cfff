export {
  checkExecutor,
  defaultExecutorName,
  type ExecutorOrigin,
  ExecutorRegistry,
  placingExecutor,
} from "./registry.ts";
