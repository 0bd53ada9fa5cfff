// The runtime's public face: everything outside runtime/ imports from here.
export { asSwampError, describeCause, ErrorCode, errorCodeName, SwampError } from "./errors/mod.ts";
export type { SwampErrorOptions } from "./errors/mod.ts";
export { type Clock, type IdSource, randomIds, systemClock } from "./ports/mod.ts";
export {
  localRepoService,
  localRunService,
  type RepoLocator,
  repoLocator,
  type ServiceClient,
} from "./services/mod.ts";
export { maxSourceBytes } from "./text/read_source.ts";
export { didYouMean, nearest } from "./text/suggest.ts";
