import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LAYOUT,
  type LayoutInput,
  layeredLayout,
  longestPathLayers,
} from '../../../console/src/layout.ts';

const node = (id: string, ...dependencies: string[]): LayoutInput => ({ id, dependencies });

/** A random DAG: each node may depend on any earlier one. */
const dags = fc
  .integer({ min: 1, max: 14 })
  .chain((size) =>
    fc.tuple(
      ...Array.from({ length: size }, (_, i) =>
        fc.subarray(
          Array.from({ length: i }, (_, j) => `n${j}`),
          { maxLength: Math.min(3, i) },
        ),
      ),
    ),
  )
  .map((deps) => deps.map((d, i) => node(`n${i}`, ...d)));

describe('layered DAG layout', () => {
  it('puts each node one layer right of its furthest dependency', () => {
    const layers = longestPathLayers(
      ['a', 'b', 'c', 'd'],
      new Map([
        ['b', ['a']],
        ['c', ['b']],
        ['d', ['a', 'c']],
      ]),
    );
    expect(Object.fromEntries(layers)).toEqual({ a: 0, b: 1, c: 2, d: 3 });
  });

  it('draws the Product Launch Campaign in three layers, every edge pointing right', () => {
    const layout = layeredLayout([
      node('research_market'),
      node('discover_trends'),
      node('generate_images', 'research_market'),
      node('generate_video', 'generate_images'),
    ]);
    expect(layout.layers).toEqual([
      ['research_market', 'discover_trends'],
      ['generate_images'],
      ['generate_video'],
    ]);
    expect(layout.crossings).toBe(0);
    for (const edge of layout.edges) {
      const xs = edge.points.map((p) => p.x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
  });

  it('uncrosses edges that template order would cross', () => {
    // In template order a sits above b, but a's child is listed second: barycenters swap them.
    const layout = layeredLayout([node('a'), node('b'), node('from_b', 'b'), node('from_a', 'a')]);
    expect(layout.crossings).toBe(0);
    const y = (id: string) => layout.nodes.find((n) => n.id === id)?.y as number;
    expect(Math.sign(y('a') - y('b'))).toBe(Math.sign(y('from_a') - y('from_b')));
  });

  it('routes an edge that skips layers through one bend point per layer crossed', () => {
    const layout = layeredLayout([node('a'), node('b', 'a'), node('c', 'b'), node('d', 'a', 'c')]);
    const long = layout.edges.find((e) => e.from === 'a' && e.to === 'd');
    // Source, two dummies (layers 1 and 2), target.
    expect(long?.points).toHaveLength(4);
  });

  it('survives a cycle and unknown dependencies by leaving those edges out', () => {
    const layout = layeredLayout([node('a', 'c'), node('b', 'a'), node('c', 'b'), node('d', 'ghost', 'd')]);
    expect(layout.nodes.map((n) => n.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(layout.edges.some((e) => e.to === 'd')).toBe(false);
  });

  it('keeps nodes of a layer apart and inside the drawing, for any DAG', () => {
    fc.assert(
      fc.property(dags, (input) => {
        const layout = layeredLayout(input);
        const { nodeHeight, nodeWidth, nodeGap } = DEFAULT_LAYOUT;
        expect(layout.nodes).toHaveLength(input.length);
        for (const layer of Map.groupBy(layout.nodes, (n) => n.layer).values()) {
          const ys = layer.map((n) => n.y).sort((a, b) => a - b);
          for (let i = 1; i < ys.length; i++) {
            expect((ys[i] as number) - (ys[i - 1] as number)).toBeGreaterThanOrEqual(
              nodeHeight + nodeGap - 1e-6,
            );
          }
        }
        for (const n of layout.nodes) {
          expect(n.x).toBeGreaterThanOrEqual(0);
          expect(n.y).toBeGreaterThanOrEqual(0);
          expect(n.x + nodeWidth).toBeLessThanOrEqual(layout.width);
          expect(n.y + nodeHeight).toBeLessThanOrEqual(layout.height);
        }
        // Every dependency is drawn to the left of what waits for it.
        const layerOf = new Map(layout.nodes.map((n) => [n.id, n.layer]));
        for (const { id, dependencies } of input) {
          for (const dep of dependencies) expect(layerOf.get(dep)).toBeLessThan(layerOf.get(id) as number);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic', () => {
    const input = [
      node('a'),
      node('b'),
      node('c', 'a', 'b'),
      node('d', 'b'),
      node('e', 'c', 'd'),
      node('f', 'a'),
    ];
    expect(layeredLayout(input)).toEqual(layeredLayout(input));
  });
});
