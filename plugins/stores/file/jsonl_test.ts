// The seq-ordered JSONL files under the file store: tail reads, bisection
// over lines of very different lengths, and recovery from a torn last line.
import { assertEquals } from "../../../test/helpers/mod.ts";
import { appendLines, readAfter, readTail } from "./jsonl.ts";

/** Lines seq 1..count, some tiny, some larger than the 64 KiB read window. */
function lines(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const size = i % 37 === 0 ? 70_000 : (i * 7919) % 900;
    return JSON.stringify({ seq: String(i + 1), text: "x".repeat(size) });
  });
}

async function withFile(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "swamp-jsonl-" });
  try {
    await body(`${dir}/log.jsonl`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const seqOf = (json: unknown) => BigInt((json as { seq: string }).seq);

Deno.test("readAfter finds every starting point in a file of uneven lines", async () => {
  await withFile(async (path) => {
    const all = lines(300);
    await Deno.writeTextFile(path, all.join("\n") + "\n");
    for (const after of [0, 1, 36, 37, 38, 150, 299, 300, 400]) {
      const got = await readAfter(path, { afterSeq: BigInt(after), limit: 3, accept: seqOf });
      const want = [after + 1, after + 2, after + 3].filter((s) => s <= 300).map(BigInt);
      assertEquals(got, want, `after ${after}`);
    }
    const file = await Deno.open(path, { read: true });
    try {
      const tail = await readTail(file);
      assertEquals([tail.lastSeq, tail.end, tail.size], [300n, tail.size, tail.size]);
    } finally {
      file.close();
    }
  });
});

Deno.test("a torn last line is ignored by readers and cut off by the next writer", async () => {
  await withFile(async (path) => {
    const all = lines(40);
    await Deno.writeTextFile(path, all.join("\n") + "\n" + '{"seq":"41","te');
    assertEquals((await readAfter(path, { afterSeq: 38n, accept: seqOf }))!, [39n, 40n]);
    const file = await Deno.open(path, { read: true, append: true });
    try {
      const tail = await readTail(file);
      assertEquals(tail.lastSeq, 40n);
      await appendLines(file, tail, [JSON.stringify({ seq: "41" })], false);
    } finally {
      file.close();
    }
    assertEquals((await readAfter(path, { afterSeq: 39n, accept: seqOf }))!, [40n, 41n]);
    assertEquals(await readAfter(`${path}.missing`, { afterSeq: 0n, accept: seqOf }), undefined);
  });
});

Deno.test("readTail of an empty file", async () => {
  await withFile(async (path) => {
    await Deno.writeTextFile(path, "");
    const file = await Deno.open(path, { read: true });
    try {
      assertEquals(await readTail(file), { lastSeq: 0n, end: 0, size: 0 });
    } finally {
      file.close();
    }
  });
});
