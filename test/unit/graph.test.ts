import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCycle, layers } from '../../lib/core/graph.ts';
import { graph, smallGraphs } from './graphs.ts';

/** n0 <- n1 <- ... <- n(size-1): each node depends on the one before it. */
function chain(size: number): Map<string, string[]> {
  const g = new Map<string, string[]>([['n0', []]]);
  for (let i = 1; i < size; i++) g.set(`n${i}`, [`n${i - 1}`]);
  return g;
}

describe('findCycle', () => {
  it('finds nothing in an empty graph, a graph without edges or a diamond', () => {
    expect(findCycle(new Map())).toBeUndefined();
    expect(findCycle(graph({ a: [], b: [] }))).toBeUndefined();
    expect(findCycle(graph({ app: ['x', 'y'], x: ['core'], y: ['core'], core: [] }))).toBeUndefined();
  });

  it('returns the cycle as a closed path, without the path that leads into it', () => {
    expect(findCycle(graph({ a: ['b'], b: ['a'] }))).toEqual(['a', 'b', 'a']);
    expect(findCycle(graph({ a: ['b'], b: ['c'], c: ['d'], d: ['b'] }))).toEqual(['b', 'c', 'd', 'b']);
    expect(findCycle(graph({ a: ['a'] }))).toEqual(['a', 'a']);
  });

  it('ignores dependencies outside the graph', () => {
    expect(findCycle(graph({ a: ['ghost'], b: ['a', 'ghost'] }))).toBeUndefined();
  });

  it('walks in map order, so the first cycle met is the one returned', () => {
    const edges = { z: ['y'], y: ['z'], m: ['n'], n: ['m'] };
    expect(findCycle(graph(edges))).toEqual(['z', 'y', 'z']);
    expect(findCycle(new Map(Object.entries(edges).reverse()))).toEqual(['n', 'm', 'n']);
  });

  it('walks a 10,000-node chain without running out of stack, and closes it', () => {
    const g = chain(10_000);
    expect(findCycle(g)).toBeUndefined();
    g.set('n0', ['n9999']);
    const cycle = findCycle(g) as string[];
    expect(cycle).toHaveLength(10_001);
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
  });

  it('any cycle it reports is a closed path of real edges; without one a topological order exists (property)', () => {
    const randomGraph = smallGraphs();
    fc.assert(
      fc.property(randomGraph, (edges) => {
        const g = graph(edges);
        const cycle = findCycle(g);
        if (cycle !== undefined) {
          expect(cycle[0]).toBe(cycle[cycle.length - 1]);
          for (let i = 1; i < cycle.length; i++) expect(g.get(cycle[i - 1] as string)).toContain(cycle[i]);
          expect(new Set(cycle.slice(0, -1)).size).toBe(cycle.length - 1);
        } else {
          const placed = layers(g).flat();
          const at = new Map(placed.map((node, i) => [node, i]));
          expect(placed).toHaveLength(g.size);
          for (const [node, deps] of g) {
            for (const dep of deps) if (g.has(dep)) expect(at.get(dep)).toBeLessThan(at.get(node) as number);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('layers', () => {
  it('puts each node in the layer of its longest dependency chain, map order within a layer', () => {
    expect(layers(graph({ report: ['fetch', 'clean'], fetch: [], clean: ['fetch'], trends: [] }))).toEqual([
      ['fetch', 'trends'],
      ['clean'],
      ['report'],
    ]);
    expect(layers(new Map())).toEqual([]);
  });

  it('ignores dependencies outside the graph', () => {
    expect(layers(graph({ a: ['ghost'], b: ['a'] }))).toEqual([['a'], ['b']]);
  });

  it('leaves out the edge that closes a cycle, a self-dependency among them', () => {
    expect(layers(graph({ a: ['a'], b: ['a'] }))).toEqual([['a'], ['b']]);
    // b is walked first; its edge to c is followed, c's edge back to b closes the cycle.
    expect(layers(graph({ x: [], b: ['c'], c: ['b'] }))).toEqual([['x', 'c'], ['b']]);
  });

  it('layers a 10,000-node chain without running out of stack', () => {
    const result = layers(chain(10_000));
    expect(result).toHaveLength(10_000);
    expect(result[9_999]).toEqual(['n9999']);
  });

  it('puts every node after all it depends on, one layer after the deepest (property)', () => {
    const dag = fc.integer({ min: 1, max: 15 }).chain((n) =>
      fc.tuple(
        fc.constant(n),
        // Edges only go from a higher to a lower index: acyclic by construction.
        fc.array(
          fc
            .tuple(fc.integer({ min: 1, max: Math.max(1, n - 1) }), fc.nat())
            .map(([from, to]) => [from, to % from] as const),
          { maxLength: 40 },
        ),
      ),
    );
    fc.assert(
      fc.property(dag, ([n, edges]) => {
        const g = new Map<string, string[]>();
        for (let i = n - 1; i >= 0; i--) g.set(`n${i}`, []);
        for (const [from, to] of edges) g.get(`n${from}`)?.push(`n${to}`);
        const depth = new Map(layers(g).flatMap((layer, k) => layer.map((node) => [node, k] as const)));
        expect(depth.size).toBe(g.size);
        for (const [node, deps] of g) {
          const deepest = Math.max(-1, ...deps.map((d) => depth.get(d) as number));
          expect(depth.get(node)).toBe(deepest + 1);
        }
      }),
      { numRuns: 200 },
    );
  });
});
