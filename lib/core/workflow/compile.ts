/**
 * Compiles a workflow template to an Amazon States Language definition.
 *
 * **State.** The execution input is `{ input, results: {} }` (build it with {@link executionInput}):
 * the caller starts every execution with the empty results, so the definition needs no initial
 * Pass state and its first state is the first step's Task (or the first Parallel). On a Standard
 * state machine each state entered is a billed transition, so a run in which every step succeeds
 * enters only the Task states and the Parallel states: 5 for the four-step product launch seed.
 * Each step is a Lambda Task that receives the step's static definition with the current `input`
 * and `results`, and writes `{ status }` to `results.<step_id>`. Outputs never travel in the
 * state: each step's output is in its step record (by artifact reference above the inline limit),
 * and the step handler reads the outputs a step's parameters reference. So the state stays small
 * whatever the steps return: the run input plus a status per step. A failure that outlives the
 * step's retries is caught and recorded as `{ status: 'FAILED', error }` (the error's name) by a
 * Pass state (entered only on failure); then the workflow either ends in a Fail state
 * (`on_failure: 'fail'`) or goes on (`'continue'`), and the step handler skips the dependents
 * (see `decideStep`). The output is the final `{ input, results }`.
 *
 * **Engine.** A template's `engine` chooses the state machine type ({@link CompiledWorkflow}'s
 * `type`); the template rules keep Express templates free of callback steps and within Express'
 * five minutes. An Express execution cannot be described, so an Express definition reports its own
 * end to the step Lambda ({@link RunEndPayload}): the success path ends in a `Record end` Task, and
 * each Fail state of an `on_failure: 'fail'` step is preceded by a `<step_id> (record end)` Task
 * (inside the Parallel branch, where the step is in one), whose own failure is caught so that the
 * run still fails for the step's error. Both keep the state (`ResultPath: null`). A Standard
 * definition has neither: its executions are described.
 *
 * **Parallelism.** Step Functions has no join between branches of different Parallel states, so a
 * compiled workflow is always a series-parallel structure: nested Parallel states run in series.
 * - When the DAG's precedence order is series-parallel, its decomposition (see
 *   `decomposeSeriesParallel`) is emitted as is, and every step starts exactly when its last
 *   dependency finishes: the makespan equals the critical path.
 * - Otherwise (strategy `series-parallel-cuts`) only the prime parts of the decomposition need
 *   extra orderings, and one is unavoidable there: a prime part can only become a series of a
 *   dependency-closed first half and the rest. Both halves are decomposed again, so the cut costs
 *   nothing outside the prime core (see `seriesParallelize`). The cut is chosen among the
 *   down-sets given by thresholding earliest/latest start/finish times, minimising the critical
 *   path of the first half plus that of the rest, summed over duration scenarios (durations are
 *   unknown at compile time; `estimatedDurations`, e.g. mean latencies per action, centre the
 *   scenarios when given), then the fewest added orderings.
 *   On random DAGs of 10-60 steps (each step waits for 0-3 earlier ones; durations uniform in
 *   1-100) the compiled makespan averages 1.11x the critical path without estimates (worst 1.6x)
 *   and 1.05x with exact estimates; layering averages 1.40x (worst 2.3x).
 *   Why not layers (all steps of depth k in one Parallel, layers in series): layering orders
 *   every step of a layer after every step of the previous one even where the graph is
 *   series-parallel, and its makespan is the sum of each layer's longest step. Why not one branch
 *   per step that polls until its dependencies are done: branches cannot see each other's results,
 *   so it needs storage outside the state, and Wait/Choice loops multiply billed state transitions
 *   and history events while adding the polling interval to every edge.
 * - `parallel_execution: false` runs the steps one at a time in a stable topological order.
 *
 * **Merging.** A Parallel state outputs one state per branch; its ResultSelector merges the
 * branches' `results` with `States.JsonMerge` (shallow: keys are step ids, and keys present in
 * several branches hold the same earlier results). Step Functions allows at most 10 intrinsic
 * calls per field, so a Parallel has at most {@link MAX_BRANCHES} branches; wider groups are
 * nested, which costs no parallelism.
 *
 * **Names.** A step's Task state is named by its step id; the other states carry a space (which a
 * step id cannot), so names never collide, and they stay within the 80-character limit.
 */
import { ValidationError } from '../errors.ts';
import { criticalPath, type Durations, type SpTree, seriesParallelize, topologicalOrder } from './dag.ts';
import { kindOf, LAMBDA_INVOKE, STEP_KINDS } from './step-kinds.ts';
import type { StepResult } from './step-readiness.ts';
import {
  effectiveRetries,
  stepDag,
  validateTemplate,
  type WorkflowStep,
  type WorkflowTemplate,
  type WorkflowTemplateInput,
} from './template.ts';

/** Most branches of one Parallel state: merging k branches takes k - 1 nested intrinsic calls (limit 10). */
export const MAX_BRANCHES = 10;

/** Step Functions' limit on the size of a state machine definition. */
export const MAX_DEFINITION_BYTES = 1_048_576;

/** Thrown by the step handler while the execution is paused. */
export const PAUSED_ERROR = 'WorkflowPaused';
/** Errors a retry cannot fix. */
export const NOT_RETRIED_ERRORS = ['WorkflowCancelled', 'ValidationError'];
export const PAUSE_POLL_SECONDS = 5;
/** The last state of a successful Express run (see {@link RunEndPayload}). */
export const RECORD_END_STATE = 'Record end';
/** Lambda's own transient faults, retried on the end records (a step retries every error anyway). */
const LAMBDA_RETRY = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  IntervalSeconds: 1,
  MaxAttempts: 3,
  BackoffRate: 2,
};

export type AslState = Record<string, unknown>;

/** An ASL state machine (or a Parallel branch, which has the same shape without TimeoutSeconds). */
export interface AslStateMachine {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

export type CompileStrategy = 'series-parallel' | 'series-parallel-cuts' | 'sequential';

export interface CompileStats {
  /** Every state, nested ones included. */
  states: number;
  /** One per step, plus an Express definition's end records. */
  taskStates: number;
  parallelStates: number;
  passStates: number;
  failStates: number;
  /** Deepest nesting of Parallel states (0 when there is none). */
  parallelDepth: number;
  strategy: CompileStrategy;
  /** Series cuts added to make a non-series-parallel graph expressible (0 otherwise). */
  cuts: number;
}

/** The state machine type the template asks for (`engine`), as Step Functions and CDK name it. */
export type StateMachineType = 'STANDARD' | 'EXPRESS';

export interface CompiledWorkflow {
  definition: AslStateMachine;
  stats: CompileStats;
  type: StateMachineType;
}

/** What an execution of a compiled workflow starts with: the workflow input and no results yet. */
export function executionInput(input: Record<string, unknown>): {
  input: Record<string, unknown>;
  results: Record<string, never>;
} {
  return { input, results: {} };
}

/**
 * What the step Lambda receives when an Express run ends: Express executions cannot be described,
 * so the run reports its own end. `end.stepId` names the `on_failure: 'fail'` step that failed it;
 * `results` are the results the recording state sees (in a Parallel branch: those of its branch
 * and of the states before the Parallel). Told apart from a step's payload by `end`.
 */
export interface RunEndPayload {
  executionId: string;
  workflowId: string;
  end: { status: 'SUCCEEDED' | 'FAILED'; stepId?: string };
  results: Record<string, StepResult>;
}

export interface CompileOptions {
  /** The step handler Lambda (name, ARN or alias ARN). */
  runStepFunctionArn: string;
  /**
   * Expected duration of steps (any unit; a step without one counts as the mean of the others):
   * guides the cuts in graphs that are not series-parallel. Nothing else depends on it.
   */
  estimatedDurations?: Durations;
}

/** Compiles a template (validated here, defaults filled) to an ASL definition; see the module comment. */
export function compileWorkflow(input: WorkflowTemplateInput, options: CompileOptions): CompiledWorkflow {
  const template = validateTemplate(input);
  const dag = stepDag(template);
  let tree: SpTree;
  let strategy: CompileStrategy;
  let cuts = 0;
  if (!template.parallel_execution) {
    tree = sequence(topologicalOrder(dag).map((id): SpTree => ({ kind: 'step', id })));
    strategy = 'sequential';
  } else {
    const plan = seriesParallelize(dag, options.estimatedDurations);
    tree = plan.tree;
    cuts = plan.cuts;
    strategy = cuts === 0 ? 'series-parallel' : 'series-parallel-cuts';
  }

  const emitter = new Emitter(template, options.runStepFunctionArn);
  const states: Record<string, AslState> = {};
  const first = emitter.workflow(tree, states);
  const definition: AslStateMachine = {
    Comment: `${template.name} (workflow ${template.workflow_id}, version ${template.version})`,
    StartAt: first,
    TimeoutSeconds: template.timeout,
    States: reorder(states, first),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(definition)).length;
  if (bytes > MAX_DEFINITION_BYTES) {
    throw new ValidationError([
      {
        field: 'steps',
        message: `the compiled state machine takes ${bytes} bytes, more than the ${MAX_DEFINITION_BYTES} Step Functions accepts: shorten the parameters or split the workflow`,
      },
    ]);
  }
  return {
    definition,
    stats: { ...countStates(definition), strategy, cuts },
    type: template.engine === 'express' ? 'EXPRESS' : 'STANDARD',
  };
}

/**
 * Time the definition takes when every step succeeds at its first attempt and lasts
 * `durations[step_id]`: the sum along each chain, the longest branch for each Parallel state.
 */
export function definitionMakespan(definition: AslStateMachine, durations: Durations): number {
  let time = 0;
  let name: string | undefined = definition.StartAt;
  while (name !== undefined) {
    const state: AslState | undefined = definition.States[name];
    if (!state) throw new Error(`state '${name}' is missing`);
    if (isStepTask(state)) time += durations[taskStepId(state)] ?? 0;
    if (state.Type === 'Parallel') {
      const branches = state.Branches as AslStateMachine[];
      time += Math.max(0, ...branches.map((branch) => definitionMakespan(branch, durations)));
    }
    name = state.End === true ? undefined : (state.Next as string | undefined);
  }
  return time;
}

/** The makespan of the compiled structure (see {@link definitionMakespan}). */
export function compiledMakespan(
  template: WorkflowTemplateInput,
  durations: Durations,
  options: Pick<CompileOptions, 'estimatedDurations'> = {},
): number {
  const { definition } = compileWorkflow(template, { ...options, runStepFunctionArn: 'makespan' });
  return definitionMakespan(definition, durations);
}

/** The least makespan any schedule can achieve: the critical path of the step DAG. */
export function criticalPathMakespan(template: WorkflowTemplateInput, durations: Durations): number {
  return criticalPath(stepDag(validateTemplate(template)), durations).length;
}

/** Whether a state is a step's Task (an Express definition's end records are Tasks that are not). */
export function isStepTask(state: AslState): boolean {
  return state.Type === 'Task' && typeof stepPayload(state)?.stepId === 'string';
}

/** The step id a Task state runs. */
export function taskStepId(state: AslState): string {
  const stepId = stepPayload(state)?.stepId;
  if (state.Type !== 'Task' || typeof stepId !== 'string') throw new Error('not a compiled step Task state');
  return stepId;
}

function stepPayload(state: AslState): { stepId?: unknown } | undefined {
  return (state.Parameters as { Payload?: { stepId?: unknown } } | undefined)?.Payload;
}

function sequence(children: SpTree[]): SpTree {
  return children.length === 1 ? (children[0] as SpTree) : { kind: 'series', children };
}

class Emitter {
  readonly #steps: Map<string, WorkflowStep>;
  readonly #template: WorkflowTemplate;
  readonly #arn: string;
  /** Express: the run reports its end (see {@link RunEndPayload}). */
  readonly #recordsEnd: boolean;
  #parallels = 0;

  constructor(template: WorkflowTemplate, arn: string) {
    this.#template = template;
    this.#steps = new Map(template.steps.map((s) => [s.step_id, s]));
    this.#arn = arn;
    this.#recordsEnd = template.engine === 'express';
  }

  /** Adds the top-level states of `tree` to `states` (ending in `Record end` on Express); returns the first. */
  workflow(tree: SpTree, states: Record<string, AslState>): string {
    if (!this.#recordsEnd) return this.fragment(tree, undefined, states);
    states[RECORD_END_STATE] = {
      ...this.#endRecord(
        { status: 'SUCCEEDED' },
        'reports the end of the run: the Express execution cannot be described',
      ),
      End: true,
    };
    return this.fragment(tree, RECORD_END_STATE, states);
  }

  /** Adds the states of `tree` to `states`, the last ones going to `next` (or ending); returns the first. */
  fragment(tree: SpTree, next: string | undefined, states: Record<string, AslState>): string {
    switch (tree.kind) {
      case 'step':
        return this.#step(this.#steps.get(tree.id) as WorkflowStep, next, states);
      case 'series': {
        let first = next;
        for (const child of [...tree.children].reverse()) first = this.fragment(child, first, states);
        return first as string;
      }
      case 'parallel':
        return this.#parallel(groupBranches(tree.children), next, states);
      case 'prime':
        throw new Error('prime parts must be resolved before emitting');
    }
  }

  #parallel(children: SpTree[], next: string | undefined, states: Record<string, AslState>): string {
    const name = `Parallel ${++this.#parallels}`;
    const branches = children.map((child): AslStateMachine => {
      const branchStates: Record<string, AslState> = {};
      const start = this.fragment(child, undefined, branchStates);
      return { StartAt: start, States: reorder(branchStates, start) };
    });
    let merged = '$[0].results';
    for (let i = 1; i < branches.length; i++) merged = `States.JsonMerge(${merged}, $[${i}].results, false)`;
    states[name] = {
      Type: 'Parallel',
      Comment: `runs ${treeStepsLabel(children)}`,
      Branches: branches,
      ResultSelector: { 'input.$': '$[0].input', 'results.$': merged },
      ...link(next),
    };
    return name;
  }

  #step(step: WorkflowStep, next: string | undefined, states: Record<string, AslState>): string {
    const id = step.step_id;
    const retries = effectiveRetries(step, this.#template);
    const failed = `${id} (failed)`;
    // ' (record failure)' would take a 64-character step id past the 80-character limit.
    const record = `${id} (record end)`;
    const abort = `${id} (fail workflow)`;
    const recordsFailure = step.on_failure === 'fail' && this.#recordsEnd;
    const definition: Record<string, unknown> = {
      step_id: id,
      name: step.name,
      factory_type: step.factory_type,
      action: step.action,
      parameters: step.parameters,
      dependencies: step.dependencies,
      any_of: step.any_of,
      on_failure: step.on_failure,
      retries,
    };
    if (step.timeout_seconds !== undefined) definition.timeout_seconds = step.timeout_seconds;
    const kind = STEP_KINDS[kindOf(step)];
    Object.assign(definition, kind.definition(step));
    const task = kind.taskState(step);
    states[id] = {
      Type: 'Task',
      Comment: step.name,
      Resource: task.Resource,
      Parameters: {
        FunctionName: this.#arn,
        Payload: {
          'executionId.$': '$$.Execution.Id',
          workflowId: this.#template.workflow_id,
          stepId: id,
          step: definition,
          'input.$': '$.input',
          'results.$': '$.results',
          ...task.payload,
        },
      },
      ResultSelector: task.ResultSelector,
      ResultPath: `$.results.${id}`,
      ...(step.timeout_seconds !== undefined ? { TimeoutSeconds: step.timeout_seconds } : {}),
      ...task.extra,
      Retry: [
        // Paused: the step handler refuses to start; asking again every few seconds until resumed
        // holds no Lambda and does not use up the step's own retries.
        {
          ErrorEquals: [PAUSED_ERROR],
          IntervalSeconds: PAUSE_POLL_SECONDS,
          BackoffRate: 1,
          MaxAttempts: 99_999_999,
        },
        // Input that cannot become valid by trying again, and a cancelled run, are not retried.
        { ErrorEquals: NOT_RETRIED_ERRORS, MaxAttempts: 0 },
        ...(retries > 0
          ? [{ ErrorEquals: ['States.ALL'], MaxAttempts: retries, IntervalSeconds: 1, BackoffRate: 2 }]
          : []),
      ],
      // The caught error lands in the step's own slot, so the Pass below needs no temporary field.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.results.${id}`, Next: failed }],
      ...link(next),
    };
    states[failed] = {
      Type: 'Pass',
      Comment: `records that '${id}' failed`,
      Parameters: { status: 'FAILED', 'error.$': `$.results.${id}.Error` },
      ResultPath: `$.results.${id}`,
      ...(step.on_failure === 'continue' ? link(next) : { Next: recordsFailure ? record : abort }),
    };
    if (recordsFailure) {
      states[record] = {
        ...this.#endRecord({ status: 'FAILED', stepId: id }, `reports that '${id}' fails the run`),
        // Failing to report must not change how the run fails: the state goes on untouched.
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: abort }],
        Next: abort,
      };
    }
    if (step.on_failure === 'fail') {
      states[abort] = {
        Type: 'Fail',
        Comment: `'${id}' has on_failure 'fail'`,
        ErrorPath: `$.results.${id}.error`,
        Cause: `step '${id}' failed`,
      };
    }
    return id;
  }

  /** A Task that sends a {@link RunEndPayload} to the step Lambda and leaves the state as it was. */
  #endRecord(end: RunEndPayload['end'], comment: string): AslState {
    return {
      Type: 'Task',
      Comment: comment,
      Resource: LAMBDA_INVOKE,
      Parameters: {
        FunctionName: this.#arn,
        Payload: {
          'executionId.$': '$$.Execution.Id',
          workflowId: this.#template.workflow_id,
          end,
          'results.$': '$.results',
        },
      },
      ResultPath: null,
      Retry: [LAMBDA_RETRY],
    };
  }
}

function link(next: string | undefined): { Next: string } | { End: true } {
  return next === undefined ? { End: true } : { Next: next };
}

/** Splits a wide parallel group into nested groups of at most MAX_BRANCHES, balanced. */
function groupBranches(children: SpTree[]): SpTree[] {
  if (children.length <= MAX_BRANCHES) return children;
  const groups = Math.ceil(children.length / MAX_BRANCHES);
  const size = Math.ceil(children.length / groups);
  const grouped: SpTree[] = [];
  for (let i = 0; i < children.length; i += size) {
    const chunk = children.slice(i, i + size);
    grouped.push(chunk.length === 1 ? (chunk[0] as SpTree) : { kind: 'parallel', children: chunk });
  }
  return groupBranches(grouped);
}

function treeStepsLabel(children: SpTree[]): string {
  const first = (tree: SpTree): string =>
    tree.kind === 'step'
      ? tree.id
      : tree.kind === 'prime'
        ? (tree.ids[0] as string)
        : first(tree.children[0] as SpTree);
  return `${children.length} branches, starting with ${children.map((c) => `'${first(c)}'`).join(', ')}`;
}

/** Lists states in reading order (each state, then its failure path, then what follows). */
function reorder(states: Record<string, AslState>, start: string): Record<string, AslState> {
  const ordered: Record<string, AslState> = {};
  const visit = (name: string | undefined) => {
    if (name === undefined || name in ordered) return;
    const state = states[name] as AslState;
    ordered[name] = state;
    for (const c of (state.Catch as { Next: string }[] | undefined) ?? []) visit(c.Next);
    visit(state.Next as string | undefined);
  };
  visit(start);
  for (const [name, state] of Object.entries(states)) if (!(name in ordered)) ordered[name] = state;
  return ordered;
}

function countStates(machine: AslStateMachine): Omit<CompileStats, 'strategy' | 'cuts'> {
  const stats = {
    states: 0,
    taskStates: 0,
    parallelStates: 0,
    passStates: 0,
    failStates: 0,
    parallelDepth: 0,
  };
  const walk = (m: AslStateMachine, depth: number) => {
    stats.parallelDepth = Math.max(stats.parallelDepth, depth);
    for (const state of Object.values(m.States)) {
      stats.states++;
      if (state.Type === 'Task') stats.taskStates++;
      if (state.Type === 'Pass') stats.passStates++;
      if (state.Type === 'Fail') stats.failStates++;
      if (state.Type === 'Parallel') {
        stats.parallelStates++;
        for (const branch of state.Branches as AslStateMachine[]) walk(branch, depth + 1);
      }
    }
  };
  walk(machine, 0);
  return stats;
}
