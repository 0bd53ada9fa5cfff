// Run by posix_spawn_gc_test.ts in a process of its own, with a small young
// generation so the collector runs while spawns are in flight on the thread
// pool: every child must see exactly the arguments and environment it was
// given. Prints how many did not, of how many.
import { spawnInSession } from "./session_spawn.ts";

const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();
const count = Number(Deno.args[0] ?? 400);
const env: Record<string, string> = { PATH: "/usr/bin:/bin" };
for (let k = 0; k < 40; k++) env[`VAR_${k}`] = `value-${k}-${"y".repeat(k)}`;
let garbage: Uint8Array[] = [];
let wrong = 0;

async function one(i: number): Promise<void> {
  const arg = `arg-${i}-${"x".repeat(i % 100)}`;
  const started = spawnInSession({
    program: "/bin/sh",
    args: ["-c", 'printf "%s|%s" "$0" "$V"', arg],
    env: { ...env, V: `v-${i}` },
  }, "posix_spawn");
  // Short-lived buffers of the sizes the call's own are, while the call runs.
  for (let k = 0; k < 3000; k++) garbage.push(new Uint8Array(100 + (k % 200)).fill(65 + k % 26));
  garbage = [];
  const child = await started;
  const [out] = await Promise.all([text(child.stdout), text(child.stderr), child.status]);
  if (out !== `${arg}|v-${i}`) wrong++;
}

let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (next < count) await one(next++);
}));
console.log(JSON.stringify({ wrong, count }));
