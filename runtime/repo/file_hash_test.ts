import { assert, assertEquals } from "../../test/helpers/mod.ts";
import { fileSha256, fileVersion } from "./file_hash.ts";
import { sha256Hex } from "../text/hash.ts";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("fileSha256 follows same-size rewrites in place, however soon they come", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/workflow.yaml`;
  try {
    // Same size each time, written in place: only the times can tell the versions apart.
    for (const [i, text] of ["steps: 1\n", "steps: 2\n", "steps: 3\n"].entries()) {
      await Deno.writeTextFile(path, text);
      assertEquals(await fileSha256(path), await sha256Hex(text), `version ${i}, fresh`);
      if (i === 1) await wait(120); // now old enough to be remembered
      assertEquals(await fileSha256(path), await sha256Hex(text), `version ${i}, again`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileVersion: a fresh file is not settled, an old one is, a rename changes it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/f`;
  try {
    await Deno.writeTextFile(path, "a");
    assertEquals(fileVersion(path).settled, false);
    await wait(120);
    const before = fileVersion(path);
    assertEquals(before.settled, true);
    await Deno.writeTextFile(`${dir}/g`, "a");
    await Deno.rename(`${dir}/g`, path);
    assert(fileVersion(path).signature !== before.signature);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
