import { assertEquals } from "../test/helpers/mod.ts";
import { closeWithCommand, inCommandScope } from "./request_scope.ts";

Deno.test("what a served command opened is closed when it ends, newest first; outside a command nothing is kept", async () => {
  const closed: string[] = [];
  const closing = (name: string) => () => Promise.resolve(void closed.push(name));
  closeWithCommand(closing("outside"));
  const value = await inCommandScope(() => {
    closeWithCommand(closing("store"));
    closeWithCommand(closing("sandbox"));
    assertEquals(closed, []);
    return Promise.resolve(7);
  });
  assertEquals(value, 7);
  assertEquals(closed, ["sandbox", "store"]);
  await inCommandScope(() => Promise.resolve());
  assertEquals(closed, ["sandbox", "store"], "a later command closes nothing of the earlier one");
});

Deno.test("closed early, a command's connections close at once, and so does one it opens after", async () => {
  const closed: string[] = [];
  const closing = (name: string) => () => Promise.resolve(void closed.push(name));
  let closeEarly: (() => Promise<void>) | undefined;
  let release = () => {};
  const later = new Promise<void>((resolve) => release = resolve);
  const command = inCommandScope(async () => {
    closeWithCommand(closing("first"));
    await later;
    closeWithCommand(closing("second"));
    assertEquals(closed, ["first", "second"], "opened after the early close: closed at once");
  }, (close) => closeEarly = close);
  await closeEarly!();
  assertEquals(closed, ["first"]);
  release();
  await command;
  assertEquals(closed, ["first", "second"], "nothing is closed twice");
});
