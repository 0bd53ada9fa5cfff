// A thread of `swamp serve` on a SQLite store that checkpoints the store's
// write-ahead log, so that the file syncs of a checkpoint never hold up the
// run thread or the thread that answers calls (decision 0037).
/// <reference lib="deno.worker" />
import { checkpointEvery, type WalCheckpoints } from "../../plugins/stores/sqlite/mod.ts";
import type { FromCheckpoints, ToCheckpoints } from "./checkpoint_thread.ts";

const post = (message: FromCheckpoints) => self.postMessage(message);
let checkpoints: WalCheckpoints | undefined;

self.onmessage = (message: MessageEvent<ToCheckpoints>) => {
  const command = message.data;
  if (command.kind === "start") {
    try {
      checkpoints = checkpointEvery(command.path, {
        ...command.tuning,
        onError: (error) => post({ kind: "error", error: String(error) }),
      });
      post({ kind: "started" });
    } catch (error) {
      post({ kind: "error", error: String(error) });
    }
  } else if (command.kind === "stop") {
    checkpoints?.stop();
    post({ kind: "stopped", counts: checkpoints?.counts() });
    self.close();
  }
};
