export type { ServiceClient } from "./client.ts";
export { type RepoLocator, repoLocator } from "./locator.ts";
export { localRepoService } from "./repo_service.ts";
export { localRunService } from "./run_service.ts";
