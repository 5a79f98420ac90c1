/**
 * Graph algorithms on a step DAG: ordering, cycles, critical path and the series-parallel
 * structure that the ASL compiler turns into nested Parallel states.
 *
 * A DAG is a map from node to the nodes it waits for (its dependencies). Map order is meaningful:
 * it is the template order, used to break every tie so results are deterministic.
 */

import { findCycle } from '../graph.ts';
import { mulberry32 } from '../random.ts';

/** Node -> the nodes it depends on, in template order. */
export type Dag = ReadonlyMap<string, readonly string[]>;

/** Duration (or estimate) of each node; a node missing from the record counts as 0. */
export type Durations = Readonly<Record<string, number>>;

/**
 * A nesting of series and parallel compositions. `prime` marks a part that is neither: it cannot
 * be expressed with nested Parallel states without adding orderings.
 */
export type SpTree =
  | { kind: 'step'; id: string }
  | { kind: 'series'; children: SpTree[] }
  | { kind: 'parallel'; children: SpTree[] }
  | { kind: 'prime'; ids: string[] };

/**
 * The nodes with every node after its dependencies. Among the nodes that are ready at the same
 * time the earliest in template order goes first, so the order is stable. Throws on a cycle.
 */
export function topologicalOrder(dag: Dag): string[] {
  const index = indexOf(dag);
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [node, deps] of dag) {
    const known = unique(deps).filter((d) => dag.has(d));
    waiting.set(node, known.length);
    for (const dep of known) {
      const list = dependents.get(dep);
      if (list) list.push(node);
      else dependents.set(dep, [node]);
    }
  }
  const ready = [...dag.keys()].filter((n) => waiting.get(n) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    // Linear scan for the minimum: n is at most a few hundred, so a heap buys nothing.
    let best = 0;
    for (let i = 1; i < ready.length; i++) {
      if ((index.get(ready[i] as string) as number) < (index.get(ready[best] as string) as number)) best = i;
    }
    const node = ready.splice(best, 1)[0] as string;
    order.push(node);
    for (const next of dependents.get(node) ?? []) {
      const left = (waiting.get(next) as number) - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length !== dag.size) {
    const cycle = findCycle(dag);
    throw new Error(`dependency cycle: ${(cycle ?? []).join(' -> ')}`);
  }
  return order;
}

/** The longest chain of dependencies by total duration: the least time any schedule needs. */
export function criticalPath(dag: Dag, durations: Durations): { length: number; path: string[] } {
  const finish = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  let last: string | undefined;
  for (const node of topologicalOrder(dag)) {
    let start = 0;
    let from: string | undefined;
    for (const dep of dag.get(node) ?? []) {
      const f = finish.get(dep);
      if (f !== undefined && (from === undefined || f > start)) {
        start = f;
        from = dep;
      }
    }
    const end = start + duration(durations, node);
    finish.set(node, end);
    via.set(node, from);
    if (last === undefined || end > (finish.get(last) as number)) last = node;
  }
  const path: string[] = [];
  for (let node = last; node !== undefined; node = via.get(node)) path.unshift(node);
  return { length: last === undefined ? 0 : (finish.get(last) as number), path };
}

/**
 * The series-parallel decomposition of the DAG's precedence order (its transitive closure): a part
 * whose nodes fall into groups with no ordering between them is `parallel`; a part whose nodes
 * fall into groups that each come wholly before the next is `series`; anything else is `prime`.
 * Running the tree with "series = one after the other, parallel = all at once" starts every node
 * exactly when its last dependency finishes, so it loses nothing; only `prime` parts need more.
 */
export function decomposeSeriesParallel(dag: Dag): SpTree {
  const order = new PrecedenceOrder(dag);
  return order.decompose(order.all(), (ids) => ({ kind: 'prime', ids: order.names(ids) }));
}

/** True when the DAG's precedence order is series-parallel (no `prime` part). */
export function isSeriesParallel(dag: Dag): boolean {
  return !hasPrime(decomposeSeriesParallel(dag));
}

/** A series-parallel structure that respects every dependency, and how many orderings it had to add. */
export interface SeriesParallelPlan {
  tree: SpTree;
  /** Series cuts made inside prime parts: 0 when the DAG is series-parallel. */
  cuts: number;
}

/** Duration scenarios the cut choice is averaged over (besides the estimates themselves). */
export const CUT_SCENARIOS = 16;
/** Relative spread of sampled durations around a given estimate, and around the mean when there is none. */
const ESTIMATE_SPREAD = 0.25;
const UNKNOWN_SPREAD = 0.95;

/**
 * Like {@link decomposeSeriesParallel}, but resolves each prime part by cutting it in two: a part
 * closed under dependencies, then the rest, run one after the other. A cut is forced there (a
 * prime part can be neither a parallel nor a series of its natural groups), so the only choice is
 * where; both halves are then decomposed again, so only the prime core of a graph pays for it.
 *
 * The candidates are the down-sets obtained by thresholding earliest and latest start and finish
 * times; each is scored by criticalPath(first) + criticalPath(rest) (exact when both halves turn
 * out series-parallel), ties broken by fewer added orderings. Durations are uncertain, so the
 * score is summed over scenarios: the estimates, plus {@link CUT_SCENARIOS} seeded samples that
 * vary each estimate by ±25%, or, for a step without an estimate, draw its duration anywhere in
 * 0.05-1.95 times the mean estimate (1 when there is none). Averaging also smooths the greedy
 * choice: even with exact estimates it finds shorter structures than the estimates alone.
 */
export function seriesParallelize(dag: Dag, estimates: Durations = {}): SeriesParallelPlan {
  const order = new PrecedenceOrder(dag);
  const known = [...dag.keys()].filter((id) => Object.hasOwn(estimates, id));
  const mean =
    known.length === 0 ? 1 : known.reduce((sum, id) => sum + duration(estimates, id), 0) / known.length;
  const base = order.weights((id) => (Object.hasOwn(estimates, id) ? duration(estimates, id) : mean));
  const spread = order.weights((id) => (Object.hasOwn(estimates, id) ? ESTIMATE_SPREAD : UNKNOWN_SPREAD));
  // A fixed seed: the same template always compiles to the same definition.
  const random = mulberry32(dag.size);
  const scenarios = [
    base,
    ...Array.from({ length: CUT_SCENARIOS }, () =>
      base.map((w, i) => w * (1 + (spread[i] as number) * (2 * random() - 1))),
    ),
  ];
  let cuts = 0;
  const resolvePrime = (ids: number[]): SpTree => {
    const [first, rest] = order.bestCut(ids, scenarios);
    cuts++;
    return series([order.decompose(first, resolvePrime), order.decompose(rest, resolvePrime)]);
  };
  const tree = order.decompose(order.all(), resolvePrime);
  return { tree, cuts };
}

/** Time the tree takes when series parts run one after the other and parallel parts all at once. */
export function treeMakespan(tree: SpTree, durations: Durations): number {
  switch (tree.kind) {
    case 'step':
      return duration(durations, tree.id);
    case 'series':
      return tree.children.reduce((sum, child) => sum + treeMakespan(child, durations), 0);
    case 'parallel':
      return Math.max(0, ...tree.children.map((child) => treeMakespan(child, durations)));
    case 'prime':
      throw new Error('a prime part has no makespan of its own: resolve it with seriesParallelize');
  }
}

/** The node ids of a tree in execution order (parallel children in order). */
export function treeSteps(tree: SpTree): string[] {
  switch (tree.kind) {
    case 'step':
      return [tree.id];
    case 'prime':
      return [...tree.ids];
    default:
      return tree.children.flatMap(treeSteps);
  }
}

function hasPrime(tree: SpTree): boolean {
  if (tree.kind === 'prime') return true;
  return tree.kind !== 'step' && tree.children.some(hasPrime);
}

function series(children: SpTree[]): SpTree {
  const flat = children.flatMap((c) => (c.kind === 'series' ? c.children : [c]));
  return flat.length === 1 ? (flat[0] as SpTree) : { kind: 'series', children: flat };
}

function duration(durations: Durations, id: string): number {
  const value = durations[id] ?? 0;
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`duration of '${id}' must be >= 0, got ${value}`);
  return value;
}

function indexOf(dag: Dag): Map<string, number> {
  return new Map([...dag.keys()].map((node, i) => [node, i]));
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/**
 * The DAG with nodes numbered in a stable topological order and its transitive closure as rows
 * of flags, so comparability tests are O(1) and decompositions are O(n^2) per level.
 */
class PrecedenceOrder {
  readonly #ids: string[];
  /** Direct dependencies, as topological positions. */
  readonly #deps: number[][];
  readonly #dependents: number[][];
  /** #before[v] has bit u set when u must finish before v starts (transitively). */
  readonly #before: Uint8Array[];
  readonly #member: Uint8Array;

  constructor(dag: Dag) {
    this.#ids = topologicalOrder(dag);
    const position = new Map(this.#ids.map((id, i) => [id, i]));
    const n = this.#ids.length;
    this.#deps = this.#ids.map((id) =>
      unique(dag.get(id) ?? [])
        .map((d) => position.get(d))
        .filter((p): p is number => p !== undefined),
    );
    this.#dependents = Array.from({ length: n }, () => [] as number[]);
    this.#before = Array.from({ length: n }, () => new Uint8Array(n));
    this.#member = new Uint8Array(n);
    for (let v = 0; v < n; v++) {
      const row = this.#before[v] as Uint8Array;
      for (const u of this.#deps[v] as number[]) {
        (this.#dependents[u] as number[]).push(v);
        row[u] = 1;
        const inherited = this.#before[u] as Uint8Array;
        for (let w = 0; w < u; w++) if (inherited[w]) row[w] = 1;
      }
    }
  }

  all(): number[] {
    return this.#ids.map((_, i) => i);
  }

  names(ids: readonly number[]): string[] {
    return ids.map((i) => this.#ids[i] as string);
  }

  weights(of: (id: string) => number): number[] {
    return this.#ids.map(of);
  }

  comparable(a: number, b: number): boolean {
    return (this.#before[b] as Uint8Array)[a] === 1 || (this.#before[a] as Uint8Array)[b] === 1;
  }

  /** `ids` must be convex (every node between two members is a member), which all parts here are. */
  decompose(ids: number[], onPrime: (ids: number[]) => SpTree): SpTree {
    if (ids.length === 1) return { kind: 'step', id: this.#ids[ids[0] as number] as string };
    const groups = this.#components(ids, true);
    if (groups.length > 1) {
      return { kind: 'parallel', children: groups.map((g) => this.decompose(g, onPrime)) };
    }
    const blocks = this.#components(ids, false);
    if (blocks.length > 1) {
      // Blocks are totally ordered, and positions are topological, so any member's position sorts them.
      blocks.sort((a, b) => (a[0] as number) - (b[0] as number));
      return series(blocks.map((b) => this.decompose(b, onPrime)));
    }
    return onPrime(ids);
  }

  /**
   * Connected components of the comparability graph (`linked` true) or of its complement, each
   * sorted, listed by their first member: parts of a parallel or of a series composition.
   */
  #components(ids: number[], linked: boolean): number[][] {
    const sorted = [...ids].sort((a, b) => a - b);
    const unvisited = new Set(sorted);
    const groups: number[][] = [];
    for (const start of sorted) {
      if (!unvisited.has(start)) continue;
      unvisited.delete(start);
      const group = [start];
      for (let i = 0; i < group.length; i++) {
        const node = group[i] as number;
        for (const other of [...unvisited]) {
          if (this.comparable(node, other) === linked) {
            unvisited.delete(other);
            group.push(other);
          }
        }
      }
      groups.push(group.sort((a, b) => a - b));
    }
    return groups;
  }

  /** The cut of a prime part described on {@link seriesParallelize}: [down-set, rest]. */
  bestCut(ids: number[], scenarios: readonly (readonly number[])[]): [number[], number[]] {
    // In a down-set A every member's dependencies are in A, and in the rest every member's
    // dependents are in the rest, so the two critical paths are the largest earliest finish in A
    // and the largest tail (horizon - latest start) in the rest: prefix and suffix maxima.
    const plans = scenarios.map((weight) => this.#plan(ids, weight));
    const m = ids.length;
    const prefix = new Float64Array(m);
    const suffix = new Float64Array(m + 1);
    let best: { first: number[]; score: number; added?: number } | undefined;
    for (const plan of plans) {
      for (const key of ['earliestStart', 'earliestFinish', 'latestStart', 'latestFinish'] as const) {
        const time = plan[key];
        // Thresholding a time is taking a prefix of the members sorted by it, ties kept together.
        const byTime = [...ids].sort((a, b) => (time[a] as number) - (time[b] as number));
        prefix.fill(0);
        suffix.fill(0);
        for (const p of plans) {
          let head = 0;
          let tail = 0;
          for (let k = 0; k < m; k++) {
            head = Math.max(head, p.earliestFinish[byTime[k] as number] as number);
            prefix[k] = (prefix[k] as number) + head;
            const v = byTime[m - 1 - k] as number;
            tail = Math.max(tail, p.horizon - (p.latestStart[v] as number));
            suffix[m - 1 - k] = (suffix[m - 1 - k] as number) + tail;
          }
        }
        for (let k = 0; k < m - 1; k++) {
          if (time[byTime[k] as number] === time[byTime[k + 1] as number]) continue;
          const score = (prefix[k] as number) + (suffix[k + 1] as number);
          if (best !== undefined && score > best.score + 1e-9) continue;
          const first = byTime.slice(0, k + 1).sort((a, b) => a - b);
          if (best === undefined || score < best.score - 1e-9) {
            best = { first, score };
            continue;
          }
          best.added ??= this.#added(best.first, ids);
          const added = this.#added(first, ids);
          if (added < best.added) best = { first, score, added };
        }
      }
    }
    // Every time ties only when every duration is 0; then any cut is as good: take the sources.
    best ??= {
      first: ids.filter((v) => !(this.#deps[v] as number[]).some((u) => ids.includes(u))),
      score: 0,
    };
    const chosen = new Set(best.first);
    return [best.first, ids.filter((i) => !chosen.has(i))];
  }

  /** Orderings a cut adds: pairs (first, rest) that were not already ordered. */
  #added(first: readonly number[], ids: readonly number[]): number {
    const chosen = new Set(first);
    let count = 0;
    for (const b of ids) if (!chosen.has(b)) for (const a of first) if (!this.comparable(a, b)) count++;
    return count;
  }

  /**
   * Earliest and latest start/finish of each member within the part (indexed by position), the
   * part's own critical path being the horizon; horizon - latestStart is the longest path from a member.
   */
  #plan(ids: readonly number[], weight: readonly number[]): Plan {
    const n = this.#ids.length;
    const member = this.#member;
    const plan: Plan = {
      horizon: 0,
      earliestStart: new Float64Array(n),
      earliestFinish: new Float64Array(n),
      latestStart: new Float64Array(n),
      latestFinish: new Float64Array(n),
    };
    for (const v of ids) member[v] = 1;
    for (const v of ids) {
      let start = 0;
      for (const u of this.#deps[v] as number[]) {
        if (member[u] === 1) start = Math.max(start, plan.earliestFinish[u] as number);
      }
      plan.earliestStart[v] = start;
      plan.earliestFinish[v] = start + (weight[v] as number);
      plan.horizon = Math.max(plan.horizon, plan.earliestFinish[v] as number);
    }
    for (let i = ids.length - 1; i >= 0; i--) {
      const v = ids[i] as number;
      let latest = plan.horizon;
      for (const w of this.#dependents[v] as number[]) {
        if (member[w] === 1) latest = Math.min(latest, plan.latestStart[w] as number);
      }
      plan.latestFinish[v] = latest;
      plan.latestStart[v] = latest - (weight[v] as number);
    }
    for (const v of ids) member[v] = 0;
    return plan;
  }
}

interface Plan {
  horizon: number;
  earliestStart: Float64Array;
  earliestFinish: Float64Array;
  latestStart: Float64Array;
  latestFinish: Float64Array;
}
