import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCycle } from '../../../lib/core/graph.ts';
import {
  criticalPath,
  type Dag,
  decomposeSeriesParallel,
  isSeriesParallel,
  type SpTree,
  seriesParallelize,
  topologicalOrder,
  treeMakespan,
  treeSteps,
} from '../../../lib/core/workflow/dag.ts';
import { type Deps, dagCase, durationsOf, sid } from './support.ts';

const dag = (edges: Record<string, string[]>): Dag => new Map(Object.entries(edges));

const dagOf = (deps: Deps, order: number[] = deps.map((_, i) => i)): Dag =>
  new Map(order.map((i) => [sid(i), (deps[i] as number[]).map(sid)]));

/** Compact rendering: a;b for series, (a|b) for parallel, {a,b} for a prime part. */
function show(tree: SpTree): string {
  switch (tree.kind) {
    case 'step':
      return tree.id;
    case 'series':
      return tree.children.map(show).join(';');
    case 'parallel':
      return `(${tree.children.map(show).join('|')})`;
    case 'prime':
      return `{${tree.ids.join(',')}}`;
  }
}

/** For every node, the nodes that certainly finished before it starts in the tree. */
function treeBefore(tree: SpTree): Map<string, Set<string>> {
  const before = new Map<string, Set<string>>();
  const run = (t: SpTree, done: Set<string>): Set<string> => {
    switch (t.kind) {
      case 'step':
        before.set(t.id, new Set(done));
        return new Set([...done, t.id]);
      case 'series':
        return t.children.reduce((acc, child) => run(child, acc), done);
      case 'parallel':
        return new Set(t.children.flatMap((child) => [...run(child, done)]));
      case 'prime':
        throw new Error('unresolved prime part');
    }
  };
  run(tree, new Set());
  return before;
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

  it('throws on a cycle, naming it', () => {
    expect(() => topologicalOrder(dag({ a: ['b'], b: ['a'] }))).toThrow('dependency cycle: a -> b -> a');
  });

  it('holds on random DAGs in any template order', () => {
    fc.assert(
      fc.property(dagCase('any'), ({ deps, order }) => {
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

  it('is 0 for an empty graph and rejects negative durations', () => {
    expect(criticalPath(new Map(), {})).toEqual({ length: 0, path: [] });
    expect(() => criticalPath(dag({ a: [] }), { a: -1 })).toThrow(RangeError);
  });
});

describe('decomposeSeriesParallel', () => {
  it('decomposes the seed product launch: two chains side by side', () => {
    const g = dag({
      research_market: [],
      discover_trends: [],
      generate_images: ['research_market'],
      generate_video: ['generate_images'],
    });
    expect(show(decomposeSeriesParallel(g))).toBe(
      '(research_market;generate_images;generate_video|discover_trends)',
    );
  });

  it('decomposes a diamond and a fork-join of fork-joins', () => {
    expect(show(decomposeSeriesParallel(dag({ s: [], a: ['s'], b: ['s'], t: ['a', 'b'] })))).toBe(
      's;(a|b);t',
    );
    const nested = dag({ s: [], a: ['s'], a1: ['a'], a2: ['a'], j: ['a1', 'a2'], b: ['s'], t: ['j', 'b'] });
    expect(show(decomposeSeriesParallel(nested))).toBe('s;(a;(a1|a2);j|b);t');
  });

  it('reads the order, not the edges: redundant edges change nothing', () => {
    const g = dag({ s: [], a: ['s'], b: ['s'], t: ['a', 'b', 's'] });
    expect(show(decomposeSeriesParallel(g))).toBe('s;(a|b);t');
  });

  it('marks the N shape as prime, and only the part that is prime', () => {
    expect(show(decomposeSeriesParallel(nShape))).toBe('{a,b,c,d}');
    expect(isSeriesParallel(nShape)).toBe(false);
    const wider = new Map([...nShape, ['z', []], ['end', ['c', 'd']]]);
    expect(show(decomposeSeriesParallel(wider))).toBe('({a,b,c,d};end|z)');
  });
});

describe('seriesParallelize', () => {
  it('leaves a series-parallel graph as it is', () => {
    const g = dag({ s: [], a: ['s'], b: ['s'], t: ['a', 'b'] });
    expect(seriesParallelize(g)).toEqual({ tree: decomposeSeriesParallel(g), cuts: 0 });
  });

  it('cuts the N where it costs least given the estimates', () => {
    // d is long: start it right after b, with a;c beside it. c is long: a and b, then c beside d.
    expect(show(seriesParallelize(nShape, { a: 1, b: 1, c: 1, d: 10 }).tree)).toBe('b;(a;c|d)');
    expect(show(seriesParallelize(nShape, { a: 1, b: 1, c: 10, d: 1 }).tree)).toBe('(a|b);(c|d)');
    expect(seriesParallelize(nShape).cuts).toBe(1);
  });

  it('still cuts when every estimate is 0 and all cuts look alike', () => {
    expect(show(seriesParallelize(nShape, { a: 0, b: 0, c: 0, d: 0 }).tree)).toBe('(a|b);(c|d)');
  });

  it('on random DAGs: every node once, after all its dependencies, at least the critical path', () => {
    fc.assert(
      fc.property(dagCase('any'), ({ deps, order, durations }) => {
        const g = dagOf(deps, order);
        const { tree } = seriesParallelize(g);
        expect(treeSteps(tree).sort()).toEqual([...g.keys()].sort());
        const before = treeBefore(tree);
        for (const [id, ds] of g) for (const d of ds) expect(before.get(id)?.has(d)).toBe(true);
        const times = durationsOf(durations);
        expect(treeMakespan(tree, times)).toBeGreaterThanOrEqual(criticalPath(g, times).length);
      }),
      { numRuns: 150 },
    );
  });

  it('on random series-parallel DAGs: recognised, no cut, and exactly the critical path', () => {
    fc.assert(
      fc.property(dagCase('series-parallel'), ({ deps, order, durations }) => {
        const g = dagOf(deps, order);
        expect(isSeriesParallel(g)).toBe(true);
        const { tree, cuts } = seriesParallelize(g);
        expect(cuts).toBe(0);
        const times = durationsOf(durations);
        expect(treeMakespan(tree, times)).toBe(criticalPath(g, times).length);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(dagCase('any'), ({ deps }) => {
        expect(seriesParallelize(dagOf(deps))).toEqual(seriesParallelize(dagOf(deps)));
      }),
      { numRuns: 30 },
    );
  });
});
