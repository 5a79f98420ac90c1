import fc from 'fast-check';
import type { Graph } from '../../lib/core/graph.ts';

/** A graph from a node -> edges record. */
export const graph = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges));

/** Small random graphs over six nodes, cycles and dangling edges included, as node -> edges records. */
export const smallGraphs = (): fc.Arbitrary<Record<string, string[]>> => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  return fc.dictionary(
    fc.constantFrom(...names),
    fc.uniqueArray(fc.constantFrom(...names), { maxLength: 3 }),
  );
};
