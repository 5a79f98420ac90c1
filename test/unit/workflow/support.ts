/**
 * Random step graphs for the workflow tests: DAGs, templates built from them, and an independent
 * reading of a compiled definition's structure.
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
export const dagCase = () =>
  fc.record({ n: fc.integer({ min: 10, max: 60 }), seed: fc.integer() }).map(({ n, seed }) => {
    const random = seeded(seed);
    const deps = randomDag(n, random);
    const order = deps.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = int(random, 0, i);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const durations = deps.map(() => int(random, 1, 100));
    return { deps, order, durations };
  });

/**
 * Reads a compiled definition without the compiler's help: for every step (by Task state on the
 * success path), the set of steps that have certainly finished when it starts, and how often it
 * occurs. A state's payload says what it is: a `stepId` runs that step, a `gate` waits for the
 * steps `after` (and so for everything they waited for). The branches of a Parallel state run
 * side by side; throws when gates wait for each other.
 */
export function structuralPredecessors(definition: AslStateMachine): {
  before: Map<string, Set<string>>;
  occurrences: Map<string, number>;
} {
  const before = new Map<string, Set<string>>();
  const occurrences = new Map<string, number>();
  const payloadOf = (state: AslState) =>
    (state.Parameters as { Payload?: { stepId?: string; gate?: { after: string[] } } } | undefined)?.Payload;
  const pathOf = (machine: AslStateMachine): AslState[] => {
    const path: AslState[] = [];
    for (let name: string | undefined = machine.StartAt; name !== undefined; ) {
      const state: AslState | undefined = machine.States[name];
      if (!state) throw new Error(`state '${name}' is missing`);
      path.push(state);
      name = state.End === true ? undefined : (state.Next as string | undefined);
    }
    return path;
  };
  // Runs paths side by side from `done`; returns the steps finished once all have ended.
  const runSideBySide = (paths: AslState[][], done: Set<string>): Set<string> => {
    const cursors = paths.map((path) => ({ path, next: 0, finished: new Set(done) }));
    for (let moved = true; moved; ) {
      moved = false;
      for (const cursor of cursors) {
        while (cursor.next < cursor.path.length) {
          const state = cursor.path[cursor.next] as AslState;
          const payload = payloadOf(state);
          if (state.Type === 'Task' && payload?.gate) {
            const after = payload.gate.after;
            if (!after.every((id) => before.has(id))) break;
            for (const id of after) {
              cursor.finished.add(id);
              for (const earlier of before.get(id) as Set<string>) cursor.finished.add(earlier);
            }
          } else if (state.Type === 'Task' && typeof payload?.stepId === 'string') {
            const id = payload.stepId;
            occurrences.set(id, (occurrences.get(id) ?? 0) + 1);
            before.set(id, new Set(cursor.finished));
            cursor.finished.add(id);
          } else if (state.Type === 'Parallel') {
            const branches = (state.Branches as AslStateMachine[]).map(pathOf);
            cursor.finished = runSideBySide(branches, cursor.finished);
          }
          cursor.next++;
          moved = true;
        }
      }
    }
    const stuck = cursors.filter((c) => c.next < c.path.length);
    if (stuck.length > 0) throw new Error('gates wait for each other');
    return new Set(cursors.flatMap((c) => [...c.finished]));
  };
  runSideBySide([pathOf(definition)], new Set());
  return { before, occurrences };
}
