/**
 * A layered drawing of a DAG, flowing left to right (a Sugiyama layout, kept small):
 *
 * 1. **Layers** by longest path: a node sits one layer right of its furthest dependency, so every
 *    edge points right and chains read in order.
 * 2. **Dummy nodes** on every edge longer than one layer, one per layer crossed, so long edges take
 *    part in ordering and are routed around nodes instead of through them.
 * 3. **Ordering** within layers by the barycenter heuristic: sweeps right then left, each node
 *    moved to the mean position of its neighbours in the layer before; the order with the fewest
 *    crossings seen is kept.
 * 4. **Coordinates**: each node pulled toward the mean height of its neighbours, then pushed
 *    apart to keep the order and the gaps.
 *
 * Pure and deterministic: the same steps in the same order always draw the same picture.
 */

/** What a node needs: its id and what it waits for (unknown ids and self-loops are ignored). */
export interface LayoutInput {
  id: string;
  dependencies: readonly string[];
}

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  /** Horizontal room between layers, where the edges run. */
  layerGap: number;
  /** Vertical room between two nodes of a layer. */
  nodeGap: number;
  /** Room around the drawing. */
  margin: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  nodeWidth: 210,
  nodeHeight: 52,
  layerGap: 64,
  nodeGap: 20,
  margin: 12,
};

export interface Point {
  x: number;
  y: number;
}

export interface PlacedNode {
  id: string;
  layer: number;
  /** Position within its layer, from the top. */
  order: number;
  /** Top-left corner. */
  x: number;
  y: number;
}

export interface RoutedEdge {
  from: string;
  to: string;
  /** From the right side of `from` through each dummy to the left side of `to`. */
  points: Point[];
}

export interface Layout {
  nodes: PlacedNode[];
  edges: RoutedEdge[];
  /** Ids by layer, top to bottom (dummies left out). */
  layers: string[][];
  width: number;
  height: number;
  /** Edge crossings left after ordering. */
  crossings: number;
}

interface Vertex {
  key: string;
  /** The node's id, or undefined for a dummy. */
  id: string | undefined;
  layer: number;
}

const SWEEPS = 12;
/** Room a dummy takes in its layer: an edge passing between nodes. */
const DUMMY_SIZE = 4;

/** Lays out `nodes` (see the module comment). */
export function layeredLayout(
  nodes: readonly LayoutInput[],
  options: LayoutOptions = DEFAULT_LAYOUT,
): Layout {
  const ids = [...new Set(nodes.map((n) => n.id))];
  const known = new Set(ids);
  const dependencies = new Map<string, string[]>();
  for (const node of nodes) {
    const deps = node.dependencies.filter((d) => known.has(d) && d !== node.id);
    dependencies.set(node.id, [...new Set([...(dependencies.get(node.id) ?? []), ...deps])]);
  }
  const acyclic = withoutCycles(ids, dependencies);
  const layerOf = longestPathLayers(ids, acyclic);

  // Vertices (nodes and dummies) by layer, and the segments between adjacent layers.
  const layerCount = Math.max(0, ...ids.map((id) => (layerOf.get(id) ?? 0) + 1));
  const layers: Vertex[][] = Array.from({ length: layerCount }, () => []);
  for (const id of ids) layers[layerOf.get(id) ?? 0]?.push({ key: id, id, layer: layerOf.get(id) ?? 0 });
  const chains: Array<{ from: string; to: string; keys: string[] }> = [];
  const predecessors = new Map<string, string[]>();
  const successors = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    successors.set(a, [...(successors.get(a) ?? []), b]);
    predecessors.set(b, [...(predecessors.get(b) ?? []), a]);
  };
  for (const id of ids) {
    for (const dep of acyclic.get(id) ?? []) {
      const keys = [dep];
      for (let layer = (layerOf.get(dep) ?? 0) + 1; layer < (layerOf.get(id) ?? 0); layer++) {
        const key = `${dep}->${id}#${layer}`;
        layers[layer]?.push({ key, id: undefined, layer });
        keys.push(key);
      }
      keys.push(id);
      for (let i = 1; i < keys.length; i++) link(keys[i - 1] as string, keys[i] as string);
      chains.push({ from: dep, to: id, keys });
    }
  }

  const ordered = orderLayers(layers, predecessors, successors);
  const crossings = countCrossings(ordered, successors);
  const centres = assignHeights(ordered, predecessors, successors, options);

  const positionOf = new Map<string, Point>();
  ordered.forEach((layer, l) => {
    for (const vertex of layer) {
      positionOf.set(vertex.key, {
        x: options.margin + l * (options.nodeWidth + options.layerGap),
        y: centres.get(vertex.key) ?? 0,
      });
    }
  });
  const placed: PlacedNode[] = [];
  ordered.forEach((layer) => {
    layer
      .filter((v) => v.id !== undefined)
      .forEach((vertex, order) => {
        const at = positionOf.get(vertex.key) as Point;
        placed.push({
          id: vertex.id as string,
          layer: vertex.layer,
          order,
          x: at.x,
          y: at.y - options.nodeHeight / 2,
        });
      });
  });
  const edges: RoutedEdge[] = chains.map(({ from, to, keys }) => {
    const points = keys.map((key, i) => {
      const at = positionOf.get(key) as Point;
      if (i === 0) return { x: at.x + options.nodeWidth, y: at.y };
      if (i === keys.length - 1) return { x: at.x, y: at.y };
      // A dummy spans the width a node would take, so the edge runs straight through its layer.
      return { x: at.x + options.nodeWidth / 2, y: at.y };
    });
    return { from, to, points };
  });
  const bottom = Math.max(0, ...placed.map((n) => n.y + options.nodeHeight), ...[...centres.values()]);
  return {
    nodes: placed,
    edges,
    layers: ordered.map((layer) => layer.flatMap((v) => (v.id === undefined ? [] : [v.id]))),
    width:
      layerCount === 0
        ? 0
        : options.margin * 2 + layerCount * options.nodeWidth + (layerCount - 1) * options.layerGap,
    height: placed.length === 0 ? 0 : bottom + options.margin,
    crossings,
  };
}

/**
 * The dependencies without the edges that close a cycle (found depth-first in input order). The
 * API refuses cycles; a drawing of a bad template should still draw rather than loop.
 */
function withoutCycles(ids: readonly string[], dependencies: Map<string, string[]>): Map<string, string[]> {
  const state = new Map<string, 'open' | 'done'>();
  const kept = new Map<string, string[]>(ids.map((id) => [id, []]));
  const visit = (id: string) => {
    state.set(id, 'open');
    for (const dep of dependencies.get(id) ?? []) {
      if (state.get(dep) === 'open') continue;
      kept.get(id)?.push(dep);
      if (!state.has(dep)) visit(dep);
    }
    state.set(id, 'done');
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  return kept;
}

/** Layer of each node: 0 without dependencies, else one more than its furthest dependency. */
export function longestPathLayers(
  ids: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
): Map<string, number> {
  const layer = new Map<string, number>();
  const of = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    const deps = dependencies.get(id) ?? [];
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(of));
    layer.set(id, value);
    return value;
  };
  for (const id of ids) of(id);
  return layer;
}

/** Barycenter sweeps, keeping the order with the fewest crossings. */
function orderLayers(
  layers: Vertex[][],
  predecessors: ReadonlyMap<string, readonly string[]>,
  successors: ReadonlyMap<string, readonly string[]>,
): Vertex[][] {
  let current = layers.map((layer) => [...layer]);
  let best = current;
  let fewest = countCrossings(current, successors);
  for (let sweep = 0; sweep < SWEEPS && fewest > 0; sweep++) {
    const rightward = sweep % 2 === 0;
    const next = current.map((layer) => [...layer]);
    const indices = [...next.keys()];
    for (const l of rightward ? indices.slice(1) : indices.slice(0, -1).reverse()) {
      const fixed = next[rightward ? l - 1 : l + 1] as Vertex[];
      const neighbours = rightward ? predecessors : successors;
      next[l] = byBarycenter(next[l] as Vertex[], fixed, neighbours);
    }
    current = next;
    const crossings = countCrossings(current, successors);
    if (crossings < fewest) {
      fewest = crossings;
      best = current;
    }
  }
  return best;
}

/**
 * The layer sorted by the mean position of each vertex's neighbours in the fixed layer; a vertex
 * without neighbours there keeps its own position, and ties keep the current order.
 */
function byBarycenter(
  layer: readonly Vertex[],
  fixed: readonly Vertex[],
  neighbours: ReadonlyMap<string, readonly string[]>,
): Vertex[] {
  const position = new Map(fixed.map((v, i) => [v.key, i]));
  const scored = layer.map((vertex, index) => {
    const at = (neighbours.get(vertex.key) ?? []).flatMap((k) => {
      const p = position.get(k);
      return p === undefined ? [] : [p];
    });
    // Scaled to the fixed layer's span, so a lone vertex keeps its relative place.
    const own = layer.length <= 1 ? 0 : (index / (layer.length - 1)) * Math.max(0, fixed.length - 1);
    return { vertex, index, score: at.length === 0 ? own : at.reduce((a, b) => a + b, 0) / at.length };
  });
  return scored.sort((a, b) => a.score - b.score || a.index - b.index).map((s) => s.vertex);
}

/** Crossings between each pair of adjacent layers: two segments cross when their ends swap order. */
function countCrossings(
  layers: readonly Vertex[][],
  successors: ReadonlyMap<string, readonly string[]>,
): number {
  let total = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const below = new Map((layers[l + 1] as Vertex[]).map((v, i) => [v.key, i]));
    const segments: Array<[number, number]> = [];
    (layers[l] as Vertex[]).forEach((vertex, i) => {
      for (const next of successors.get(vertex.key) ?? []) {
        const j = below.get(next);
        if (j !== undefined) segments.push([i, j]);
      }
    });
    for (let a = 0; a < segments.length; a++) {
      for (let b = a + 1; b < segments.length; b++) {
        const [i1, j1] = segments[a] as [number, number];
        const [i2, j2] = segments[b] as [number, number];
        if ((i1 - i2) * (j1 - j2) < 0) total++;
      }
    }
  }
  return total;
}

/**
 * Vertical centres: every layer starts packed and centred, then for a few rounds each vertex is
 * pulled toward the mean centre of its neighbours, and the layer pushed apart again in order.
 */
function assignHeights(
  layers: readonly Vertex[][],
  predecessors: ReadonlyMap<string, readonly string[]>,
  successors: ReadonlyMap<string, readonly string[]>,
  options: LayoutOptions,
): Map<string, number> {
  const size = (v: Vertex) => (v.id === undefined ? DUMMY_SIZE : options.nodeHeight);
  const span = (layer: readonly Vertex[]) =>
    layer.reduce((sum, v) => sum + size(v), 0) + Math.max(0, layer.length - 1) * options.nodeGap;
  const tallest = Math.max(0, ...layers.map(span));
  const centre = new Map<string, number>();
  for (const layer of layers) {
    let y = options.margin + (tallest - span(layer)) / 2;
    for (const vertex of layer) {
      centre.set(vertex.key, y + size(vertex) / 2);
      y += size(vertex) + options.nodeGap;
    }
  }
  for (let round = 0; round < 4; round++) {
    for (const layer of layers) {
      const wanted = layer.map((vertex) => {
        const around = [...(predecessors.get(vertex.key) ?? []), ...(successors.get(vertex.key) ?? [])];
        const ys = around.map((k) => centre.get(k) as number);
        return ys.length === 0
          ? (centre.get(vertex.key) as number)
          : ys.reduce((a, b) => a + b, 0) / ys.length;
      });
      // Down the layer: never closer than the gap to the one above.
      const placed: number[] = [];
      layer.forEach((vertex, i) => {
        const previous = layer[i - 1];
        const min =
          i === 0 || previous === undefined
            ? -Infinity
            : (placed[i - 1] as number) + (size(previous) + size(vertex)) / 2 + options.nodeGap;
        placed.push(Math.max(wanted[i] as number, min));
      });
      // Then shift the whole layer so it sits, on average, where its vertices want to be.
      const drift =
        placed.reduce((sum, y, i) => sum + (y - (wanted[i] as number)), 0) / Math.max(1, layer.length);
      layer.forEach((vertex, i) => {
        centre.set(vertex.key, (placed[i] as number) - drift);
      });
    }
  }
  // Nothing above the top margin.
  const top = Math.min(
    ...layers.flatMap((layer) => layer.map((v) => (centre.get(v.key) as number) - size(v) / 2)),
  );
  if (Number.isFinite(top)) for (const [key, y] of centre) centre.set(key, y - top + options.margin);
  return centre;
}
