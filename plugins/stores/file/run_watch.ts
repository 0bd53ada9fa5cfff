// A run's summary changes as the kernel reports them (inotify, through
// Deno.watchFs on the run's directory): a follower learns that its run ended
// or stopped (the summary's status changed) as soon as the new summary.json
// is renamed into place, instead of at its next poll. Other changes (every
// append) are not reported: a follower woken by each of them would read a
// busy run hundreds of times a second, taking the cores from the run itself.
// Only the run's own directory is watched: one watch whatever the store's size.
export function watchRunFiles(runDir: string, onChange: () => void): () => void {
  const watcher = Deno.watchFs(runDir, { recursive: false });
  void (async () => {
    try {
      for await (const event of watcher) {
        // No paths: a rescan (the kernel's queue overflowed), which may hide a change.
        if (
          event.paths.length === 0 || event.paths.some((path) => path.endsWith("/summary.json"))
        ) onChange();
      }
    } catch {
      // closed, or the directory went (a pruned run): the follower's poll goes on
    }
  })();
  return () => {
    try {
      watcher.close();
    } catch {
      // closed already
    }
  };
}
