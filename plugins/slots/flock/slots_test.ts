// The host's step slots with real files, real flock(2), real processes and a
// real kill -9: a slot held by another process is not free, and is free the
// moment that process dies.
import { assert, assertEquals, assertThrows, eventually } from "../../../test/helpers/mod.ts";
import { defaultSlotDir, openFlockSlots } from "./mod.ts";

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-slots-" });
  try {
    await fn(`${dir}/slots`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A process that takes one slot of `dir` (limit 1), says so, and holds it until killed. */
async function holderProcess(dir: string): Promise<Deno.ChildProcess> {
  const source = `
    import { openFlockSlots } from ${JSON.stringify(new URL("./mod.ts", import.meta.url).href)};
    const lease = openFlockSlots({ dir: ${JSON.stringify(dir)}, limit: 1 }).tryTake();
    console.log(lease ? "held" : "none");
    setInterval(() => {}, 1000);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", source],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  assertEquals(new TextDecoder().decode(value).trim(), "held");
  return child;
}

Deno.test("host slots: at most `limit` are held at once, and a released one is free again", async () => {
  await withDir((dir) => {
    const slots = openFlockSlots({ dir, limit: 2 });
    const a = slots.tryTake();
    const b = slots.tryTake();
    assert(a && b, "two slots of two");
    assertEquals(new Set([a.slot, b.slot]).size, 2);
    assertEquals(slots.tryTake(), undefined);
    // Another opening in the same process contends too (a lock per open file, not per process).
    assertEquals(openFlockSlots({ dir, limit: 2 }).tryTake(), undefined);
    a.release();
    a.release(); // twice does nothing
    const c = slots.tryTake();
    assertEquals(c?.slot, a.slot);
    assertEquals(slots.tryTake(), undefined);
    b.release();
    c!.release();
  });
});

Deno.test("host slots: a slot held by another process is taken; kill -9 of it frees the slot", async () => {
  await withDir(async (dir) => {
    const holder = await holderProcess(dir);
    const slots = openFlockSlots({ dir, limit: 1 });
    try {
      assertEquals(slots.tryTake(), undefined);
      // A process with a larger limit sees slot 0 taken and uses the next one.
      const wider = openFlockSlots({ dir, limit: 2 }).tryTake();
      assertEquals(wider?.slot, 1);
      wider!.release();
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
      await holder.stdout.cancel();
    }
    const lease = slots.tryTake();
    assertEquals(lease?.slot, 0);
    lease!.release();
  });
});

Deno.test("host slots: a process started while a slot is held does not keep it", async () => {
  await withDir(async (dir) => {
    const slots = openFlockSlots({ dir, limit: 1 });
    const lease = slots.tryTake()!;
    const child = new Deno.Command("sleep", { args: ["30"], stdin: "null" }).spawn();
    try {
      lease.release();
      // Another thread of this process may be between fork and exec of some other program for an
      // instant, with a copy of the slot's descriptor; an exec'd `sleep` holding it would keep the
      // slot for its whole 30 s.
      const again = await eventually("the slot to be free", () => {
        return Promise.resolve(openFlockSlots({ dir, limit: 1 }).tryTake());
      }, 5_000);
      assert(again, "the slot is free although a process started under it still runs");
      again.release();
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  });
});

Deno.test({
  name: "host slots: the private default directory must be this account's",
  // Only root can make a directory that another account owns.
  ignore: Deno.uid() !== 0,
}, async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.chown(dir, 65534, 65534);
    assertThrows(
      () => openFlockSlots({ dir, limit: 1, mustOwn: true }).tryTake(),
      "belongs to another account",
    );
    // Named explicitly (a shared directory), it is used as it is.
    const lease = openFlockSlots({ dir, limit: 1 }).tryTake();
    assert(lease, "an explicitly named directory is used");
    lease.release();
  });
});

Deno.test("host slots: a directory that cannot be made says which and what to do", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}-file`, ""); // beside dir, so removed with it
    const open = () => openFlockSlots({ dir: `${dir}-file/slots`, limit: 1 }).tryTake();
    assertThrows(open, `cannot keep host step slots in ${dir}-file/slots`);
    assertThrows(open, "set SWAMP_HOST_SLOTS_DIR");
  });
});

Deno.test("host slots: settings are checked", () => {
  assertThrows(() => openFlockSlots({ dir: "/tmp/x", limit: 0 }), "at least 1");
  assertThrows(() => openFlockSlots({ dir: "/tmp/x", limit: 1.5 }), "at least 1");
  const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });
  assertEquals(
    defaultSlotDir(env({ XDG_RUNTIME_DIR: "/run/user/7" })),
    "/run/user/7/swamp/step-slots",
  );
  assertEquals(
    defaultSlotDir(env({ TMPDIR: "/var/tmp" })),
    `/var/tmp/swamp-${Deno.uid()}/step-slots`,
  );
});
