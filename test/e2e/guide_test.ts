// Executes docs/guides/getting-started.md as its header describes, so the
// guide cannot drift from what swamp really does.
import { assertEquals } from "../helpers/mod.ts";

const root = new URL("../../", import.meta.url).pathname;

interface Block {
  lang: string;
  body: string;
  marker: string;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const pattern = /(?:<!--\s*([^>]*?)\s*-->\s*\n)?```(\w*)\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern)) {
    out.push({ marker: match[1] ?? "", lang: match[2], body: match[3] });
  }
  return out;
}

Deno.test("the getting-started guide runs as written", async () => {
  const guide = await Deno.readTextFile(`${root}docs/guides/getting-started.md`);
  const dir = await Deno.makeTempDir({ prefix: "swamp-guide-" });
  let cwd = dir;
  const ran: string[] = [];
  try {
    for (const block of blocks(guide)) {
      if (block.marker === "skip") continue;
      if (block.lang === "yaml" && block.marker.startsWith("file:")) {
        await Deno.writeTextFile(`${cwd}/${block.marker.slice(5).trim()}`, block.body);
        continue;
      }
      if (block.lang !== "sh") continue;
      const expected = block.marker.startsWith("exit:") ? Number(block.marker.slice(5)) : 0;
      const script = `cd "$1" || exit 99\n${block.body}\nstatus=$?\npwd > "$2"\nexit $status`;
      const result = await new Deno.Command("sh", {
        args: ["-c", script, "guide", cwd, `${dir}.cwd`],
        env: { PATH: `${root}cli:${Deno.env.get("PATH")}`, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const output = new TextDecoder().decode(result.stdout) +
        new TextDecoder().decode(result.stderr);
      assertEquals(result.code, expected, `block failed:\n${block.body}\noutput:\n${output}`);
      cwd = (await Deno.readTextFile(`${dir}.cwd`)).trim();
      ran.push(block.body);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(`${dir}.cwd`).catch(() => {});
  }
  assertEquals(ran.length > 4, true, "the guide should run several commands");
});
