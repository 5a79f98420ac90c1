import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCycle } from '../../../lib/core/graph.ts';
import {
  type BranchPlan,
  criticalPath,
  type Dag,
  planBranches,
  topologicalOrder,
} from '../../../lib/core/workflow/dag.ts';
import { type Deps, dagCase, durationsOf, sid } from './support.ts';

const dag = (edges: Record<string, string[]>): Dag => new Map(Object.entries(edges));

const dagOf = (deps: Deps, order: number[] = deps.map((_, i) => i)): Dag =>
  new Map(order.map((i) => [sid(i), (deps[i] as number[]).map(sid)]));

/** Every node's ancestors (its dependencies, theirs, and so on). */
function ancestorsOf(g: Dag): Map<string, Set<string>> {
  const ancestors = new Map<string, Set<string>>();
  const visit = (node: string): Set<string> => {
    const known = ancestors.get(node);
    if (known) return known;
    const all = new Set<string>();
    for (const dep of g.get(node) ?? []) {
      all.add(dep);
      for (const a of visit(dep)) all.add(a);
    }
    ancestors.set(node, all);
    return all;
  };
  for (const node of g.keys()) visit(node);
  return ancestors;
}

/**
 * Runs a plan: the branches side by side, each step after the one before it in its branch, a
 * gated head once its dependencies have finished. Returns when each step starts and finishes.
 */
function runPlan(g: Dag, plan: BranchPlan, durations: Record<string, number>) {
  const start = new Map<string, number>();
  const finish = new Map<string, number>();
  const cursors = plan.branches.map((branch) => ({ branch, next: 0, at: 0 }));
  for (let moved = true; moved; ) {
    moved = false;
    for (const cursor of cursors) {
      while (cursor.next < cursor.branch.length) {
        const id = cursor.branch[cursor.next] as string;
        if (cursor.next === 0 && plan.gated.has(id)) {
          const deps = g.get(id) ?? [];
          if (!deps.every((d) => finish.has(d))) break;
          cursor.at = Math.max(...deps.map((d) => finish.get(d) as number));
        }
        start.set(id, cursor.at);
        cursor.at += durations[id] ?? 0;
        finish.set(id, cursor.at);
        cursor.next++;
        moved = true;
      }
    }
  }
  expect(finish.size, 'every gate opens').toBe(g.size);
  return { start, finish };
}

// The smallest graph that is not series-parallel: a -> c, b -> c, b -> d (the "N").
const nShape = dag({ a: [], b: [], c: ['a', 'b'], d: ['b'] });

describe('findCycle', () => {
  it('finds nothing in a DAG', () => {
    expect(findCycle(dag({ a: [], b: ['a'], c: ['a', 'b'] }))).toBeUndefined();
  });

  it('returns the cycle as a closed path, without the path leading into it', () => {
    expect(findCycle(dag({ a: ['b'], b: ['c'], c: ['d'], d: ['b'] }))).toEqual(['b', 'c', 'd', 'b']);
    expect(findCycle(dag({ a: ['a'] }))).toEqual(['a', 'a']);
  });

  it('ignores dependencies on unknown nodes', () => {
    expect(findCycle(dag({ a: ['ghost'] }))).toBeUndefined();
  });

  it('handles a chain far deeper than the call stack would', () => {
    const edges: Record<string, string[]> = { n0: [] };
    for (let i = 1; i < 20_000; i++) edges[`n${i}`] = [`n${i - 1}`];
    edges.n0 = ['n19999'];
    expect(findCycle(dag(edges))).toHaveLength(20_001);
  });
});

describe('topologicalOrder', () => {
  it('puts every node after its dependencies and breaks ties by template order', () => {
    expect(topologicalOrder(dag({ d: ['b'], c: [], b: ['a'], a: [] }))).toEqual(['c', 'a', 'b', 'd']);
  });

  it('ignores dependencies on unknown nodes and repeated dependencies', () => {
    expect(topologicalOrder(dag({ b: ['a', 'a'], a: ['ghost'] }))).toEqual(['a', 'b']);
  });

  it('throws on a cycle, naming it', () => {
    expect(() => topologicalOrder(dag({ a: ['b'], b: ['a'] }))).toThrow('dependency cycle: a -> b -> a');
  });

  it('holds on random DAGs in any template order', () => {
    fc.assert(
      fc.property(dagCase(), ({ deps, order }) => {
        const sorted = topologicalOrder(dagOf(deps, order));
        expect(new Set(sorted).size).toBe(deps.length);
        const position = new Map(sorted.map((id, i) => [id, i]));
        deps.forEach((ds, j) => {
          for (const d of ds) expect(position.get(sid(d))).toBeLessThan(position.get(sid(j)) as number);
        });
      }),
      { numRuns: 100 },
    );
  });
});

describe('criticalPath', () => {
  it('finds the longest chain by duration, not by count', () => {
    const g = dag({ a: [], b: ['a'], c: ['b'], x: [], y: ['x'] });
    expect(criticalPath(g, { a: 1, b: 1, c: 1, x: 5, y: 1 })).toEqual({ length: 6, path: ['x', 'y'] });
    expect(criticalPath(g, { a: 3, b: 3, c: 3, x: 5, y: 1 })).toEqual({ length: 9, path: ['a', 'b', 'c'] });
  });

  it('follows the latest dependency through a diamond', () => {
    const g = dag({ s: [], fast: ['s'], slow: ['s'], t: ['fast', 'slow'] });
    expect(criticalPath(g, { s: 1, fast: 1, slow: 4, t: 1 })).toEqual({
      length: 6,
      path: ['s', 'slow', 't'],
    });
  });

  it('goes through the N where the durations say', () => {
    expect(criticalPath(nShape, { a: 10, b: 1, c: 1, d: 10 })).toEqual({ length: 11, path: ['a', 'c'] });
    expect(criticalPath(nShape, { a: 1, b: 1, c: 1, d: 10 })).toEqual({ length: 11, path: ['b', 'd'] });
  });

  it('counts a missing duration as 0', () => {
    expect(criticalPath(dag({ a: [], b: ['a'] }), { b: 2 })).toEqual({ length: 2, path: ['a', 'b'] });
  });

  it('is 0 for an empty graph and rejects negative or infinite durations', () => {
    expect(criticalPath(new Map(), {})).toEqual({ length: 0, path: [] });
    expect(() => criticalPath(dag({ a: [] }), { a: -1 })).toThrow(RangeError);
    expect(() => criticalPath(dag({ a: [] }), { a: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });

  it('on random DAGs: a chain of dependencies whose durations add up to the length, which no node exceeds', () => {
    fc.assert(
      fc.property(dagCase(), ({ deps, order, durations }) => {
        const g = dagOf(deps, order);
        const times = durationsOf(durations);
        const { length, path } = criticalPath(g, times);
        expect(path.reduce((sum, id) => sum + (times[id] as number), 0)).toBe(length);
        for (let i = 1; i < path.length; i++) expect(g.get(path[i] as string)).toContain(path[i - 1]);
        expect(g.get(path[0] as string)).toEqual([]);
        const finish = new Map<string, number>();
        for (const id of topologicalOrder(g)) {
          const begin = Math.max(0, ...(g.get(id) ?? []).map((d) => finish.get(d) as number));
          finish.set(id, begin + (times[id] as number));
        }
        expect(Math.max(...finish.values())).toBe(length);
      }),
      { numRuns: 100 },
    );
  });
});

describe('planBranches', () => {
  it('runs the N as three branches: d follows b at once, c waits at a gate for a and b', () => {
    expect(planBranches(nShape)).toEqual({ branches: [['a'], ['b', 'd'], ['c']], gated: new Set(['c']) });
  });

  it('keeps a chain as one branch without gates, and independent steps as branches of their own', () => {
    expect(planBranches(dag({ a: [], b: ['a'], c: ['b'] }))).toEqual({
      branches: [['a', 'b', 'c']],
      gated: new Set(),
    });
    expect(planBranches(dag({ x: [], y: [], z: [] }))).toEqual({
      branches: [['x'], ['y'], ['z']],
      gated: new Set(),
    });
  });

  it('chains the first follower of a fork and gates the others and the join', () => {
    expect(planBranches(dag({ s: [], a: ['s'], b: ['s'], t: ['a', 'b'] }))).toEqual({
      branches: [['s', 'a'], ['b'], ['t']],
      gated: new Set(['b', 't']),
    });
  });

  it('chains a step after its latest dependency when the others are its ancestors (redundant edges)', () => {
    expect(planBranches(dag({ s: [], a: ['s'], t: ['s', 'a'] }))).toEqual({
      branches: [['s', 'a', 't']],
      gated: new Set(),
    });
    // t waits for a and s; a is the latest, and its follower slot is free.
    expect(planBranches(dag({ s: [], a: ['s'], b: ['s'], t: ['a', 's'] }))).toEqual({
      branches: [['s', 'a', 't'], ['b']],
      gated: new Set(['b']),
    });
  });

  it('lists branches by the topological position of their heads, whatever the template order', () => {
    const plan = planBranches(dag({ d: ['b'], c: ['a', 'b'], b: [], a: [] }));
    expect(plan.branches).toEqual([['b', 'd'], ['a'], ['c']]);
    expect(plan.gated).toEqual(new Set(['c']));
  });

  it('ignores dependencies on steps outside the graph: such a head is not gated', () => {
    expect(planBranches(dag({ a: ['ghost'], b: ['a'] }))).toEqual({
      branches: [['a', 'b']],
      gated: new Set(),
    });
  });

  it('plans nothing for an empty graph, and throws on a cycle', () => {
    expect(planBranches(new Map())).toEqual({ branches: [], gated: new Set() });
    expect(() => planBranches(dag({ a: ['b'], b: ['a'] }))).toThrow('dependency cycle');
  });

  it('on random DAGs: every step in one branch, chained after a dependency the others precede', () => {
    fc.assert(
      fc.property(dagCase(), ({ deps, order }) => {
        const g = dagOf(deps, order);
        const { branches, gated } = planBranches(g);
        const ancestors = ancestorsOf(g);
        const all = branches.flat();
        expect(all).toHaveLength(g.size);
        expect(new Set(all)).toEqual(new Set(g.keys()));
        const position = new Map(topologicalOrder(g).map((id, i) => [id, i]));
        for (const branch of branches) {
          const [head, ...rest] = branch as [string, ...string[]];
          expect(gated.has(head)).toBe((g.get(head) ?? []).length > 0);
          branch.forEach((id, i) => {
            if (i === 0) return;
            const before = branch[i - 1] as string;
            const ds = g.get(id) ?? [];
            expect(ds).toContain(before);
            for (const d of ds) if (d !== before) expect(ancestors.get(before)?.has(d)).toBe(true);
          });
          for (const id of rest) expect(gated.has(id)).toBe(false);
        }
        const heads = branches.map((b) => position.get(b[0] as string) as number);
        expect(heads).toEqual([...heads].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });

  it('on random DAGs: as few gates as chains allow, one per step whose latest dependency is taken or not unique', () => {
    fc.assert(
      fc.property(dagCase(), ({ deps, order }) => {
        const g = dagOf(deps, order);
        const ancestors = ancestorsOf(g);
        // The one dependency each step could follow: its latest, when only one is latest.
        const candidates = new Set<string>();
        let withDeps = 0;
        for (const ds of g.values()) {
          if (ds.length === 0) continue;
          withDeps++;
          const latest = ds.filter((d) => !ds.some((o) => o !== d && ancestors.get(o)?.has(d)));
          if (latest.length === 1) candidates.add(latest[0] as string);
        }
        // Each candidate takes one follower, and no plan can chain more steps than there are.
        expect(planBranches(g).gated.size).toBe(withDeps - candidates.size);
      }),
      { numRuns: 200 },
    );
  });

  it('on random DAGs: each step starts exactly when its last dependency finishes (the critical path)', () => {
    fc.assert(
      fc.property(dagCase(), ({ deps, order, durations }) => {
        const g = dagOf(deps, order);
        const times = durationsOf(durations);
        const { start, finish } = runPlan(g, planBranches(g), times);
        for (const [id, ds] of g) {
          expect(start.get(id)).toBe(Math.max(0, ...ds.map((d) => finish.get(d) as number)));
        }
        expect(Math.max(...finish.values())).toBe(criticalPath(g, times).length);
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic, and as many branches and gates in any template order', () => {
    fc.assert(
      fc.property(dagCase(), ({ deps, order }) => {
        const plan = planBranches(dagOf(deps, order));
        expect(planBranches(dagOf(deps, order))).toEqual(plan);
        const inOrder = planBranches(dagOf(deps));
        expect(inOrder.branches).toHaveLength(plan.branches.length);
        expect(inOrder.gated.size).toBe(plan.gated.size);
      }),
      { numRuns: 50 },
    );
  });
});
