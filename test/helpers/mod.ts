// Shared test helpers: temporary repositories and running the real CLI.
export { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
export { type CliResult, runCli, swampLauncher } from "./cli.ts";
export { makeTempRepo, type TempRepo, writeFiles } from "./repo.ts";
