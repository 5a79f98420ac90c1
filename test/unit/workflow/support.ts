/**
 * Random step graphs for the workflow tests: general DAGs, series-parallel DAGs, templates built
 * from them, and an independent reading of a compiled definition's structure.
 */
import fc from 'fast-check';
import { mulberry32 } from '../../../lib/core/random.ts';
import type { AslState, AslStateMachine } from '../../../lib/core/workflow/compile.ts';
import type { WorkflowStepInput, WorkflowTemplateInput } from '../../../lib/core/workflow/template.ts';

/** deps[j] lists the indices (all < j) that node j depends on. */
export type Deps = number[][];

/** A seeded uniform source in [0, 1). */
export const seeded = mulberry32;

const int = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** A DAG where each node depends on 0..maxDeps uniformly chosen earlier nodes. */
export function randomDag(n: number, random: () => number, maxDeps = 3): Deps {
  return Array.from({ length: n }, (_, j) => {
    const count = int(random, 0, Math.min(j, maxDeps));
    const deps = new Set<number>();
    while (deps.size < count) deps.add(int(random, 0, j - 1));
    return [...deps].sort((a, b) => a - b);
  });
}

/**
 * A series-parallel DAG: nodes are split recursively into series parts (every sink of a part
 * feeds every source of the next) or parallel parts; then some redundant (transitive) edges are
 * added, which leave the precedence order unchanged.
 */
export function randomSeriesParallelDag(n: number, random: () => number): Deps {
  const deps: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  // Returns [sources, sinks] of the part made of nodes first..first+size-1.
  const build = (first: number, size: number): [number[], number[]] => {
    if (size === 1) return [[first], [first]];
    const parts = int(random, 2, Math.min(4, size));
    const cuts = new Set<number>();
    while (cuts.size < parts - 1) cuts.add(int(random, 1, size - 1));
    const bounds = [0, ...[...cuts].sort((a, b) => a - b), size];
    const built = bounds
      .slice(1)
      .map((end, i) => build(first + (bounds[i] as number), end - (bounds[i] as number)));
    if (random() < 0.5) return [built.flatMap((b) => b[0]), built.flatMap((b) => b[1])];
    for (let i = 1; i < built.length; i++) {
      for (const source of (built[i] as [number[], number[]])[0]) {
        for (const sink of (built[i - 1] as [number[], number[]])[1]) deps[source]?.add(sink);
      }
    }
    return [(built[0] as [number[], number[]])[0], (built[built.length - 1] as [number[], number[]])[1]];
  };
  build(0, n);
  const ancestors: Set<number>[] = [];
  for (let v = 0; v < n; v++) {
    const set = new Set<number>();
    for (const d of deps[v] as Set<number>) {
      set.add(d);
      for (const a of ancestors[d] as Set<number>) set.add(a);
    }
    ancestors[v] = set;
  }
  for (let v = 0; v < n; v++) {
    const all = [...(ancestors[v] as Set<number>)];
    if (all.length > 0 && random() < 0.2) deps[v]?.add(all[int(random, 0, all.length - 1)] as number);
  }
  return deps.map((set) => [...set].sort((a, b) => a - b));
}

/** Step id of node i. */
export const sid = (i: number) => `s${i}`;

/**
 * A valid template for the DAG, steps listed in `order` (a permutation of the nodes; default
 * ascending), so the compiler cannot rely on template order being topological.
 */
export function templateOf(
  deps: Deps,
  options: {
    order?: number[];
    step?: (i: number) => Partial<WorkflowStepInput>;
  } & Partial<WorkflowTemplateInput> = {},
): WorkflowTemplateInput {
  const { order = deps.map((_, i) => i), step, ...rest } = options;
  return {
    workflow_id: 'random',
    name: 'Random graph',
    ...rest,
    steps: order.map((i) => ({
      step_id: sid(i),
      name: `Step ${i}`,
      factory_type: 'media',
      action: 'generate_image',
      parameters: { n: i },
      dependencies: (deps[i] as number[]).map(sid),
      ...step?.(i),
    })),
  };
}

/** Durations by step id. */
export function durationsOf(values: readonly number[]): Record<string, number> {
  return Object.fromEntries(values.map((d, i) => [sid(i), d]));
}

/** A DAG of 10-60 nodes with a permuted template order and a duration (1-100) per node. */
export const dagCase = (kind: 'any' | 'series-parallel') =>
  fc.record({ n: fc.integer({ min: 10, max: 60 }), seed: fc.integer() }).map(({ n, seed }) => {
    const random = seeded(seed);
    const deps = kind === 'any' ? randomDag(n, random) : randomSeriesParallelDag(n, random);
    const order = deps.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = int(random, 0, i);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const durations = deps.map(() => int(random, 1, 100));
    return { deps, order, durations };
  });

/**
 * Reads a compiled definition without the compiler's help: for every step (by Task state), the
 * set of steps that have certainly finished when it starts, and how often it occurs.
 */
export function structuralPredecessors(definition: AslStateMachine): {
  before: Map<string, Set<string>>;
  occurrences: Map<string, number>;
} {
  const before = new Map<string, Set<string>>();
  const occurrences = new Map<string, number>();
  // Returns the steps finished after the machine's happy path, given those finished before it.
  const run = (machine: AslStateMachine, done: Set<string>): Set<string> => {
    let finished = new Set(done);
    let name: string | undefined = machine.StartAt;
    while (name !== undefined) {
      const state = machine.States[name] as AslState;
      if (state.Type === 'Task') {
        const id = (state.Parameters as { Payload: { stepId: string } }).Payload.stepId;
        occurrences.set(id, (occurrences.get(id) ?? 0) + 1);
        before.set(id, new Set(finished));
        finished.add(id);
      } else if (state.Type === 'Parallel') {
        const outcomes = (state.Branches as AslStateMachine[]).map((b) => run(b, finished));
        finished = new Set(outcomes.flatMap((o) => [...o]));
      }
      name = state.End === true ? undefined : (state.Next as string | undefined);
    }
    return finished;
  };
  run(definition, new Set());
  return { before, occurrences };
}
