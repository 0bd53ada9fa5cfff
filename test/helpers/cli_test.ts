import { assert, assertEquals, assertMatch } from "./assert.ts";
import { outputWithin } from "./cli.ts";

Deno.test("outputWithin: a command past its time is killed, and the error names it with its output", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", "echo started; echo trouble >&2; exec sleep 30"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let message = "";
  try {
    await outputWithin(child, "the sleeper", 300);
  } catch (error) {
    message = String(error);
  }
  assert(message, "a command past its time gave its output as if it had ended");
  assertMatch(message, /`the sleeper` did not end within 0\.3 s and was killed/);
  assertMatch(message, /stdout:\nstarted/);
  assertMatch(message, /stderr:\ntrouble/);
});

Deno.test("outputWithin: a command within its time gives its output", async () => {
  const child = new Deno.Command("sh", { args: ["-c", "echo fine"], stdout: "piped" }).spawn();
  const output = await outputWithin(child, "echo", 30_000);
  assertEquals(output.code, 0);
  assertEquals(new TextDecoder().decode(output.stdout), "fine\n");
});
