// Runs every benchmark in turn: `deno task bench`. Numbers are informational;
// each benchmark prints ratios against a baseline measured in the same run.
import { main as cliStartup } from "./cli_startup.ts";
import { main as validateLarge } from "./validate_large.ts";
import { main as cancelLatency } from "./cancel_latency.ts";
import { main as loopbackSpawn } from "./loopback_spawn.ts";
import { main as cel } from "./cel.ts";
import { main as stores } from "./stores.ts";
import { main as runs } from "./runs.ts";
import { main as submit } from "./submit.ts";
import { main as docker } from "./docker.ts";
import { main as api } from "./api.ts";
import { main as workers } from "./workers.ts";
import { main as liveSummary } from "./live_summary.ts";

console.log(
  `deno ${Deno.version.deno} on ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs\n`,
);
await cliStartup();
console.log();
await validateLarge();
console.log();
liveSummary();
console.log();
await cel();
console.log();
await stores();
console.log();
await cancelLatency();
console.log();
await loopbackSpawn();
console.log();
await runs();
console.log();
await submit();
console.log();
await docker();
console.log();
await api();
console.log();
await workers();
