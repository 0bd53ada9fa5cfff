/**
 * Finds dependency cycles in a graph given as node -> nodes it depends on.
 * Each cycle is reported once, as the list of nodes along it, starting and
 * ending at the same node. Iterative, so a 10,000-step chain cannot overflow
 * the stack.
 */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[][] = [];
  for (const start of edges.keys()) {
    if (state.has(start)) continue;
    const stack: { node: string; next: number }[] = [{ node: start, next: 0 }];
    const onPath: string[] = [start];
    state.set(start, "visiting");
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const targets = edges.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++];
        if (!edges.has(target)) continue;
        const seen = state.get(target);
        if (seen === "visiting") {
          cycles.push([...onPath.slice(onPath.indexOf(target)), target]);
        } else if (seen === undefined) {
          state.set(target, "visiting");
          stack.push({ node: target, next: 0 });
          onPath.push(target);
        }
      } else {
        state.set(frame.node, "done");
        stack.pop();
        onPath.pop();
      }
    }
  }
  return cycles;
}
