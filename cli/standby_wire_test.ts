import { assert, assertEquals } from "../test/helpers/assert.ts";
import { repoRootAbove, standbyIdleSeconds, standbySocket } from "./standby_wire.ts";

async function withRuntimeDir(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-standby-wire-" });
  const before = Deno.env.get("XDG_RUNTIME_DIR");
  Deno.env.set("XDG_RUNTIME_DIR", dir);
  try {
    await body(dir);
  } finally {
    if (before === undefined) Deno.env.delete("XDG_RUNTIME_DIR");
    else Deno.env.set("XDG_RUNTIME_DIR", before);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the socket lives in a directory only this user can enter, one per repository", async () => {
  await withRuntimeDir((dir) => {
    const a = standbySocket("/srv/repo-a")!;
    const b = standbySocket("/srv/repo-b")!;
    assert(a.startsWith(`${dir}/swamp-${Deno.uid()}/run-`), a);
    assert(a !== b, "two repositories, two sockets");
    assertEquals(standbySocket("/srv/repo-a"), a, "the same repository, the same socket");
    assertEquals((Deno.statSync(`${dir}/swamp-${Deno.uid()}`).mode ?? 0) & 0o777, 0o700);
    // A long root still gives a name a unix socket can have (108 bytes with the directory).
    assert(standbySocket(`/srv/${"x".repeat(500)}`)!.length < a.length + 1);
  });
});

Deno.test("no socket where others could reach the directory, or waiting is off", async () => {
  await withRuntimeDir((dir) => {
    Deno.mkdirSync(`${dir}/swamp-${Deno.uid()}`, { mode: 0o700 });
    Deno.chmodSync(`${dir}/swamp-${Deno.uid()}`, 0o755);
    assertEquals(standbySocket("/srv/repo"), undefined);
    Deno.chmodSync(`${dir}/swamp-${Deno.uid()}`, 0o700);
    assert(standbySocket("/srv/repo") !== undefined);
    Deno.env.set("SWAMP_STANDBY_IDLE", "0");
    try {
      assertEquals(standbySocket("/srv/repo"), undefined);
    } finally {
      Deno.env.delete("SWAMP_STANDBY_IDLE");
    }
  });
});

Deno.test("a symbolic link in place of the directory is refused", async () => {
  await withRuntimeDir((dir) => {
    Deno.mkdirSync(`${dir}/elsewhere`, { mode: 0o700 });
    Deno.symlinkSync(`${dir}/elsewhere`, `${dir}/swamp-${Deno.uid()}`);
    assertEquals(standbySocket("/srv/repo"), undefined);
  });
});

Deno.test("the repository is found at or above a directory, as the runtime finds it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "swamp-standby-root-" });
  try {
    await Deno.writeTextFile(`${dir}/.swamp.yaml`, "store: file\n");
    await Deno.mkdir(`${dir}/a/b`, { recursive: true });
    assertEquals(repoRootAbove(`${dir}/a/b`), dir);
    assertEquals(repoRootAbove(`${dir}/a/b/`), dir);
    assertEquals(repoRootAbove(dir), dir);
    assertEquals(repoRootAbove("/proc/self"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SWAMP_STANDBY_IDLE: seconds, 600 unless a whole number is given, at most 24 days", () => {
  const cases: [string | undefined, number][] = [
    [undefined, 600],
    ["", 600],
    ["0", 0],
    ["45", 45],
    ["-1", 600],
    ["1.5", 600],
    ["ten", 600],
    ["99999999999", 24 * 86_400],
  ];
  try {
    for (const [text, seconds] of cases) {
      if (text === undefined) Deno.env.delete("SWAMP_STANDBY_IDLE");
      else Deno.env.set("SWAMP_STANDBY_IDLE", text);
      assertEquals(standbyIdleSeconds(), seconds, `SWAMP_STANDBY_IDLE=${text}`);
      // A timer of that many milliseconds is one Node and Deno can hold.
      assert(seconds * 1000 <= 2 ** 31 - 1);
    }
  } finally {
    Deno.env.delete("SWAMP_STANDBY_IDLE");
  }
});
