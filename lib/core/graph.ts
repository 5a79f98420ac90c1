/**
 * Dependency graphs: finding a cycle and grouping nodes into layers. Both walk the graph
 * depth-first without recursion, so a chain of any length fits in the call stack.
 *
 * A graph maps each node to the nodes it depends on. A dependency that is not itself a key of the
 * map is outside the graph and is ignored. Map order and the order of each node's dependencies
 * are the order of the walk, so results are deterministic.
 */

/** Node -> the nodes it depends on. */
export type Graph = ReadonlyMap<string, readonly string[]>;

interface Walker {
  /**
   * An edge from the node at the top of `path` back to `to`, a node on `path` (itself, for a
   * self-dependency): the edge closes a cycle. Returning true ends the walk.
   */
  backEdge?(path: readonly string[], to: string): boolean;
  /** Every dependency of `node` has been walked (those closing a cycle aside). */
  finish?(node: string): void;
}

/** Walks every node depth-first from each not yet seen key, in map order. */
function walk(graph: Graph, walker: Walker): void {
  const state = new Map<string, 'open' | 'done'>();
  for (const root of graph.keys()) {
    if (state.has(root)) continue;
    const path: string[] = [root];
    const cursors: number[] = [0];
    state.set(root, 'open');
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top] as string;
      const deps = graph.get(node) ?? [];
      const cursor = cursors[top] as number;
      if (cursor >= deps.length) {
        state.set(node, 'done');
        walker.finish?.(node);
        path.pop();
        cursors.pop();
        continue;
      }
      cursors[top] = cursor + 1;
      const dep = deps[cursor] as string;
      if (!graph.has(dep)) continue;
      const seen = state.get(dep);
      if (seen === 'open') {
        if (walker.backEdge?.(path, dep)) return;
      } else if (seen === undefined) {
        state.set(dep, 'open');
        path.push(dep);
        cursors.push(0);
      }
    }
  }
}

/**
 * A dependency cycle as a closed path along dependency edges (`['a', 'b', 'a']`: a depends on b,
 * b on a; `['a', 'a']` for a self-dependency), without the path that leads into it; undefined
 * when the graph has none. The first cycle the walk meets is the one returned.
 */
export function findCycle(graph: Graph): string[] | undefined {
  let cycle: string[] | undefined;
  walk(graph, {
    backEdge(path, to) {
      cycle = [...path.slice(path.indexOf(to)), to];
      return true;
    },
  });
  return cycle;
}

/**
 * The nodes in layers: layer k holds the nodes whose longest chain of dependencies has k edges
 * (the roots, with no dependency in the graph, are layer 0), so every node sits in a later layer
 * than everything it depends on. Nodes keep map order within a layer. On a cycle, the edge that
 * closes it is left out (a self-dependency among them), so a cyclic graph still gets layers.
 */
export function layers(graph: Graph): string[][] {
  const depth = new Map<string, number>();
  walk(graph, {
    finish(node) {
      let d = 0;
      // A dependency without a depth yet is still open: the edge to it closes a cycle.
      for (const dep of graph.get(node) ?? []) {
        const below = depth.get(dep);
        if (below !== undefined) d = Math.max(d, below + 1);
      }
      depth.set(node, d);
    },
  });
  const result: string[][] = [];
  for (const node of graph.keys()) {
    const k = depth.get(node) as number;
    while (result.length <= k) result.push([]);
    result[k]?.push(node);
  }
  return result;
}
