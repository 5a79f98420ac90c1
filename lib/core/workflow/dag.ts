/**
 * Graph algorithms on a step DAG: ordering, critical path and the branches the ASL compiler
 * runs in one Parallel state.
 *
 * A DAG is a map from node to the nodes it waits for (its dependencies). Map order is meaningful:
 * it is the template order, used to break every tie so results are deterministic.
 */

import { findCycle } from '../graph.ts';

/** Node -> the nodes it depends on, in template order. */
export type Dag = ReadonlyMap<string, readonly string[]>;

/** Duration (or estimate) of each node; a node missing from the record counts as 0. */
export type Durations = Readonly<Record<string, number>>;

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

/** Each node -> every node it waits for, directly or not. */
export function ancestorsOf(dag: Dag): Map<string, Set<string>> {
  const ancestors = new Map<string, Set<string>>();
  for (const node of topologicalOrder(dag)) {
    const all = new Set<string>();
    for (const dep of dag.get(node) ?? []) {
      if (!dag.has(dep)) continue;
      all.add(dep);
      for (const a of ancestors.get(dep) ?? []) all.add(a);
    }
    ancestors.set(node, all);
  }
  return ancestors;
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
 * How a DAG runs as branches of one Parallel state, each step starting exactly when its own
 * dependencies have finished. A branch is a chain: a step follows its branch predecessor without
 * waiting when that predecessor is its one latest dependency (every other dependency is an
 * ancestor of it, so it has finished too). Every other step with dependencies heads a branch
 * behind a gate that its dependencies release. Each step has at most one such predecessor and
 * each predecessor takes one follower, so taking, in order, the first free follower for each
 * step chains as many steps as any choice can: the gates are as few as this shape allows.
 */
export interface BranchPlan {
  /** The chains, each in run order, listed by their head's topological position. */
  branches: string[][];
  /** Branch heads with dependencies: they wait at a gate. */
  gated: Set<string>;
}

export function planBranches(dag: Dag): BranchPlan {
  const order = topologicalOrder(dag);
  const ancestors = ancestorsOf(dag);
  const follower = new Map<string, string>();
  const chained = new Set<string>();
  for (const node of order) {
    const deps = unique(dag.get(node) ?? []).filter((d) => dag.has(d));
    const latest = deps.filter((d) => !deps.some((other) => other !== d && ancestors.get(other)?.has(d)));
    const only = latest.length === 1 ? (latest[0] as string) : undefined;
    if (only !== undefined && !follower.has(only)) {
      follower.set(only, node);
      chained.add(node);
    }
  }
  const branches: string[][] = [];
  const gated = new Set<string>();
  for (const head of order) {
    if (chained.has(head)) continue;
    if ((dag.get(head) ?? []).some((d) => dag.has(d))) gated.add(head);
    const branch = [head];
    for (let next = follower.get(head); next !== undefined; next = follower.get(next)) branch.push(next);
    branches.push(branch);
  }
  return { branches, gated };
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
