// A real Docker engine for tests: whether one answers, and a busybox image
// built locally (never pulled) from the busybox-static binary.

import { capability } from "./capabilities.ts";

export const TEST_IMAGE = "swamp-test/busybox:1";

async function docker(args: string[], stdin?: Uint8Array): Promise<Deno.CommandOutput> {
  const child = new Deno.Command("docker", {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  return await child.output();
}

/**
 * Whether tests that need Docker run here. Under CI=true a missing engine is
 * an error, never a skip: CI installs and starts one (see ./capabilities.ts).
 */
export async function dockerAvailable(): Promise<boolean> {
  return (await capability("docker")).available;
}

/** Builds TEST_IMAGE from /usr/bin/busybox (package busybox-static) once per machine. */
export async function ensureTestImage(): Promise<string> {
  if ((await docker(["image", "inspect", TEST_IMAGE])).success) return TEST_IMAGE;
  const busybox = ["/usr/bin/busybox", "/bin/busybox"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  if (!busybox) throw new Error("no busybox binary: install busybox-static");
  const root = await Deno.makeTempDir({ prefix: "swamp-image-" });
  try {
    for (const dir of ["bin", "etc", "tmp", "root"]) await Deno.mkdir(`${root}/${dir}`);
    await Deno.copyFile(busybox, `${root}/bin/busybox`);
    await Deno.chmod(`${root}/bin/busybox`, 0o755);
    const list = await new Deno.Command(`${root}/bin/busybox`, { args: ["--list"] }).output();
    for (const applet of new TextDecoder().decode(list.stdout).split("\n")) {
      if (applet && applet !== "busybox") await Deno.symlink("busybox", `${root}/bin/${applet}`);
    }
    await Deno.writeTextFile(
      `${root}/etc/passwd`,
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    );
    const tar = await new Deno.Command("tar", { args: ["-C", root, "-c", "."], stdout: "piped" })
      .output();
    const imported = await docker(["import", "-", TEST_IMAGE], tar.stdout);
    if (!imported.success) {
      throw new Error(`docker import failed: ${new TextDecoder().decode(imported.stderr)}`);
    }
    return TEST_IMAGE;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Ids of containers (running or not) with all the given labels. */
export async function containersLabelled(labels: Record<string, string>): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([k, v]) => ["--filter", `label=${k}=${v}`]);
  const out = await docker(["ps", "-aq", "--no-trunc", ...filters]);
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
}
