import { assertEquals } from "../test/helpers/mod.ts";
import { type InterruptSteps, TerminalInterrupts } from "./interrupts.ts";

/** Timers the test fires by hand, and the steps taken, in order. */
function harness() {
  const taken: string[] = [];
  const pending = new Map<number, () => void>();
  let next = 0;
  const steps: InterruptSteps = {
    warn: (ms) => taken.push(`warn ${ms}`),
    cancel: () => taken.push("cancel"),
    stop: (why) => taken.push(`stop ${why}`),
  };
  const interrupts = new TerminalInterrupts(steps, 3000, {
    set: (fn) => {
      pending.set(++next, fn);
      return next;
    },
    clear: (id) => pending.delete(id as number),
  });
  const fireWindow = () => {
    for (const [id, fn] of [...pending]) {
      pending.delete(id);
      fn();
    }
  };
  return { taken, pending, interrupts, fireWindow };
}

Deno.test("one Ctrl-C warns, and when the window passes the follower detaches", () => {
  const { taken, interrupts, fireWindow } = harness();
  interrupts.press();
  assertEquals(taken, ["warn 3000"]);
  fireWindow();
  assertEquals(taken, ["warn 3000", "stop detached"]);
  interrupts.press();
  assertEquals(taken, ["warn 3000", "stop detached"], "nothing after it has stopped");
});

Deno.test("a second Ctrl-C within the window cancels; the window no longer detaches; a third stops", () => {
  const { taken, pending, interrupts, fireWindow } = harness();
  interrupts.press();
  interrupts.press();
  assertEquals(taken, ["warn 3000", "cancel"]);
  assertEquals(pending.size, 0);
  fireWindow();
  assertEquals(taken, ["warn 3000", "cancel"]);
  interrupts.press();
  assertEquals(taken, ["warn 3000", "cancel", "stop cancelling"]);
  interrupts.press();
  assertEquals(taken.length, 3);
});

Deno.test("a run that ends within the window leaves no window behind", () => {
  const { taken, pending, interrupts } = harness();
  interrupts.press();
  interrupts.dispose();
  assertEquals(pending.size, 0);
  interrupts.press();
  assertEquals(taken, ["warn 3000"]);
});
