export {
  bootId,
  hostName,
  isSameProcessAlive,
  processStartTime,
  processState,
} from "./process_info.ts";
