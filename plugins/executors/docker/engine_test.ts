import { assert, assertEquals } from "../../../test/helpers/assert.ts";
import { EngineAddressUnsupported, socketPath } from "./engine.ts";

Deno.test("a Docker engine address is a unix socket path, with or without its scheme", () => {
  assertEquals(socketPath("unix:///run/user/1000/docker.sock"), "/run/user/1000/docker.sock");
  assertEquals(socketPath("/var/run/docker.sock"), "/var/run/docker.sock");
});

Deno.test("a TCP or SSH engine address is refused with how to reach it instead", () => {
  for (const address of ["tcp://127.0.0.1:2375", "ssh://user@host", "HTTP://h:1", "npipe://x"]) {
    let thrown: unknown;
    try {
      socketPath(address);
    } catch (error) {
      thrown = error;
    }
    assert(thrown instanceof EngineAddressUnsupported, `${address} was accepted`);
    assertEquals(thrown.code, "executor_unavailable");
    assert(thrown.message.includes(`${address} is not a unix socket`), thrown.message);
    assert(thrown.message.includes("ssh -NL"), thrown.message);
  }
});
