// The nice value of the calling thread (decision 0038). Linux keeps one per
// thread; setpriority(2) with PRIO_PROCESS and id 0 changes the calling
// thread's alone, and every thread or process it starts afterwards inherits
// it. Raising a nice value needs no privilege; lowering one does.

const PRIO_PROCESS = 0;

/**
 * Sets the calling thread's nice value to `nice` (0 to 19). Returns why it
 * could not (not Linux, no C library, refused), or undefined when done.
 */
export function setThreadNice(nice: number): string | undefined {
  if (Deno.build.os !== "linux") return `not Linux (${Deno.build.os})`;
  let library;
  try {
    library = Deno.dlopen("libc.so.6", {
      setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
    });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  try {
    const result = library.symbols.setpriority(PRIO_PROCESS, 0, nice);
    return result === 0 ? undefined : `setpriority failed for nice ${nice}`;
  } finally {
    library.close();
  }
}
