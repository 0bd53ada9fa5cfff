import { assertEquals } from "../../test/helpers/assert.ts";
import { UsageError } from "../types.ts";
import { offeredExecutors } from "./worker_connect.ts";

const known = ["loopback", "docker"];

Deno.test("worker connect --executor: repeated or comma-separated, loopback by default", () => {
  assertEquals(offeredExecutors([], known), ["loopback"]);
  assertEquals(offeredExecutors(["docker"], known), ["docker"]);
  assertEquals(offeredExecutors(["loopback,docker"], known), ["loopback", "docker"]);
  assertEquals(offeredExecutors(["docker", "loopback, docker"], known), ["docker", "loopback"]);
});

Deno.test("worker connect --executor: a name no worker can offer is a usage error naming them", () => {
  let error: unknown;
  try {
    offeredExecutors(["loopback,podman"], known);
  } catch (caught) {
    error = caught;
  }
  assertEquals(error instanceof UsageError, true);
  assertEquals(
    (error as UsageError).message,
    "--executor podman: a worker offers loopback or docker, not `podman`",
  );
});
