/**
 * Compiles a workflow template to an Amazon States Language definition.
 *
 * **Exact parallelism.** Every step starts when its own dependencies have finished, whatever the
 * shape of the DAG. The steps run as the branches of one Parallel state (see `planBranches`):
 * a branch is a chain in which a step follows the one dependency that finishes last by
 * construction; every other step with dependencies heads its branch behind a *gate*, a Task
 * its dependencies release. On Standard the gate is `lambda:invoke.waitForTaskToken`: the step
 * handler parks the token on the run's control item (or releases it at once when the
 * dependencies have ended), and each step that ends releases the parked gates it completes (see
 * `StepRunner`). A gate costs one state transition and one invocation, and nothing while it
 * waits. Express has no task tokens: there the gate is a plain `lambda:invoke` whose handler
 * waits for the dependencies in-process (Express runs last five minutes and bill by duration
 * anyway). On the random DAGs of the bench, 0.42 gates per step.
 *
 * **State.** The execution input is `{ input, run }` (build it with {@link executionInput}); no
 * step's Task writes to the state (`ResultPath: null`; a fan-out's list is the one exception,
 * bounded, see below), so it stays that size whatever the steps return: each step's status is on
 * the run's control item and its output in its step record. A failure
 * that outlives the step's retries is caught into `$.failure` and reported by a `<step> (failed)`
 * Task (entered only on failure), which records the step as FAILED and releases its dependents
 * (they are skipped); then the run fails (`on_failure: 'fail'`) or the branch goes on
 * (`'continue'`).
 *
 * **Pause** holds steps at their gate: a step that would start while its run is paused fails
 * with `WorkflowPaused`, which is caught into the step's gate (every step has one; a chained
 * step's is entered only then); resume releases the gates. Nothing runs or is billed while a
 * run is paused, so the run's time limit (checked by the step handler, counting active time
 * only) does not use it up: a Standard definition's own `TimeoutSeconds` is Step Functions'
 * maximum.
 *
 * **Express** executions cannot be described, so an Express run reports its own end to the step
 * handler ({@link RunEndPayload}): a `Record end` Task after the steps, and the `(failed)` Task
 * of an `on_failure: 'fail'` step.
 *
 * **Fan-out** (`for_each`, see `fan-out.ts`): the step is `<id> (items)`, a Task that starts it
 * as a step starts (gate, pause, skip) and resolves its list (literal, run input, or an earlier
 * step's output), answering it into `$.fanout`: inline when it has at most 40 items and 32 KiB,
 * else as `{ bucket, key, count }` of a JSON artifact it stores (the list size is known only at
 * run time, so both Maps are emitted). A Choice (`<id> (list size)`) sends an inline list to
 * `<id> (inline)`, an inline Map (`ItemsPath`), an artifact to `<id> (distributed)`, a
 * Distributed Map reading it (`ItemReader` s3:getObject, JSON) whose children are Express when
 * the item's `timeout_seconds`, retries and back-off surely end within five minutes, Standard
 * otherwise, and whose children's statuses go to `artifacts/map-runs/` (`ResultWriter`), not the
 * state; a step that ended without running (skipped, or in an earlier execution) goes on. Both
 * Maps run one Task per item (`item`/`index` from the Map's context, through `ItemSelector`) with
 * the step's timeout and retries, at most `MaxConcurrency` at a time, and keep only its status;
 * a failure that outlives an item's retries fails the Map into the step's `(failed)`. Then
 * `<id> (collect)` gathers the items' outputs, in order, into the step's output and ends the step
 * like any step (the gates waiting for it open), putting a status in place of the list. Express
 * has no Distributed Map: there the list always travels in the state, up to 64 KiB.
 *
 * Per fan-out step of n items: on Standard, 4 state transitions in the parent (`(items)`, the
 * Choice, the Map, `(collect)`) plus one per item attempt (inline: in the parent's history,
 * which is why long lists go to the Distributed Map; Distributed: in each Standard child, or one
 * Express child request each); n + 2 invocations; DynamoDB requests: `(items)` 1 (the step's
 * start, the pause and cancel check), each item 2 (its record, and the statistics of its call;
 * one more when the parameters reference outputs), `(collect)` 2 plus one consistent query page
 * per MB of item records (the step's record, and its end on the control item): 2n + 4. Items do
 * not read the control item: a fan-out that started runs its items as a step runs its call (a
 * pause holds what comes after it; a cancel stops the execution).
 *
 * **Names.** A step's Task state is named by its step id (a fan-out's first state is
 * `<id> (items)`); the other states carry a space (which a step id cannot), so names never
 * collide, and they stay within the 80-character limit.
 */

import { ValidationError } from '../errors.ts';
import { criticalPath, type Durations, planBranches, topologicalOrder } from './dag.ts';
import { childExecutionType, type ForEach, mapLabel } from './fan-out.ts';
import type { RunBudgetPlan } from './run-budget.ts';
import { kindOf, LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT_FOR_TOKEN, STEP_KINDS } from './step-kinds.ts';
import {
  effectiveRetries,
  MAX_EXPRESS_TIMEOUT_SECONDS,
  MAX_TIMEOUT_SECONDS,
  stepDag,
  validateTemplate,
  type WorkflowStep,
  type WorkflowTemplate,
  type WorkflowTemplateInput,
} from './template.ts';

/** Step Functions' limit on the size of a state machine definition. */
export const MAX_DEFINITION_BYTES = 1_048_576;

/** Thrown by the step handler while the execution is paused: caught into the step's gate. */
export const PAUSED_ERROR = 'WorkflowPaused';
/** Thrown when the run has used up its time (active time: pauses do not count). */
export const TIMED_OUT_ERROR = 'WorkflowTimedOut';
/** Errors a retry cannot fix. */
export const NOT_RETRIED_ERRORS = ['WorkflowCancelled', 'ValidationError', TIMED_OUT_ERROR, 'BudgetExceeded'];
/** The last state of a successful Express run (see {@link RunEndPayload}). */
export const RECORD_END_STATE = 'Record end';
/** The Parallel state whose branches are the step chains. */
export const STEPS_STATE = 'Steps';
/** An Express gate whose dependencies are still running after {@link GATE_WAIT_SECONDS}: asked again. */
export const GATE_WAITING_ERROR = 'GateStillWaiting';
/** How long an Express gate waits in one invocation, well within the step handler's 30 s. */
export const GATE_WAIT_SECONDS = 20;
/**
 * The retries of gates and records (a step has its own): transient faults (Lambda's, a throttled
 * request) are tried again, a cancelled or timed-out run is not, and an Express gate still waiting
 * is asked again for as long as an Express run may last.
 */
const SUPPORT_RETRY = [
  { ErrorEquals: ['WorkflowCancelled', TIMED_OUT_ERROR], MaxAttempts: 0 },
  {
    ErrorEquals: [GATE_WAITING_ERROR],
    IntervalSeconds: 1,
    BackoffRate: 1,
    MaxAttempts: Math.ceil(MAX_EXPRESS_TIMEOUT_SECONDS / GATE_WAIT_SECONDS),
  },
  { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
];

/**
 * Every service a step may use is at its flow limit: asked again for about four minutes (1 s,
 * then 1.5 times longer each time), without using up the step's own retries.
 */
const BUSY_RETRY = { ErrorEquals: ['ServiceBusy'], IntervalSeconds: 1, BackoffRate: 1.5, MaxAttempts: 12 };

export type AslState = Record<string, unknown>;

/** An ASL state machine (or a Parallel branch, which has the same shape without TimeoutSeconds). */
export interface AslStateMachine {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

export type CompileStrategy = 'gated-parallel' | 'sequential';

export interface CompileStats {
  /** Every state, nested ones included. */
  states: number;
  steps: number;
  /** Gates entered on the success path (branch heads with dependencies). */
  gates: number;
  /** Branches of the Parallel state (1 when there is none). */
  branches: number;
  taskStates: number;
  parallelStates: number;
  failStates: number;
  strategy: CompileStrategy;
}

/** The state machine type the template asks for (`engine`), as Step Functions and CDK name it. */
export type StateMachineType = 'STANDARD' | 'EXPRESS';

export interface CompiledWorkflow {
  definition: AslStateMachine;
  stats: CompileStats;
  type: StateMachineType;
}

/** Which run an execution works for, and until when (see {@link executionInput}). */
export interface RunRef {
  /** The run's id: one run may take several executions (redrive, resume after a restart, changes). */
  id: string;
  /** When the run's time is up, before pauses: the step handler adds the time spent paused. */
  deadline: string;
  /** The run's budget and the steps it is planned over, when it has one. */
  budget?: RunBudgetPlan | undefined;
}

/** What an execution of a compiled workflow starts with. */
export function executionInput(
  input: Record<string, unknown>,
  run: RunRef,
): { input: Record<string, unknown>; run: RunRef } {
  return { input, run };
}

/**
 * What the step handler receives when an Express run ends: Express executions cannot be described,
 * so the run reports its own end. Told apart from a step's payload by `end`.
 */
export interface RunEndPayload {
  executionId: string;
  run?: RunRef;
  workflowId: string;
  end: { status: 'SUCCEEDED' | 'FAILED'; stepId?: string };
}

/** A gate asks the step handler to hold the branch until `after` have ended (see the module comment). */
export interface GatePayload {
  executionId: string;
  run?: RunRef;
  workflowId: string;
  gate: { stepId: string; after: string[] };
  /** Standard: the gate waits for this token; Express: the handler waits in-process. */
  taskToken?: string;
}

/** A step's failure outlived its retries: the `(failed)` Task reports it (see the module comment). */
export interface StepFailurePayload {
  executionId: string;
  run?: RunRef;
  workflowId: string;
  failed: { stepId: string; endsRun: boolean };
  error: string;
  cause?: string;
}

export interface CompileOptions {
  /** The step handler Lambda (name, ARN or alias ARN). */
  runStepFunctionArn: string;
}

/** Compiles a template (validated here, defaults filled) to an ASL definition; see the module comment. */
export function compileWorkflow(input: WorkflowTemplateInput, options: CompileOptions): CompiledWorkflow {
  const template = validateTemplate(input);
  const dag = stepDag(template);
  const plan = template.parallel_execution
    ? planBranches(dag)
    : { branches: [topologicalOrder(dag)], gated: new Set<string>() };
  const emitter = new Emitter(template, options.runStepFunctionArn);
  const states: Record<string, AslState> = {};
  const first = emitter.workflow(plan.branches, plan.gated, states);
  const definition: AslStateMachine = {
    Comment: `${template.name} (workflow ${template.workflow_id}, version ${template.version})`,
    StartAt: first,
    // Standard: the run's own limit is checked by the step handler on active time (see above).
    TimeoutSeconds: template.engine === 'express' ? template.timeout : MAX_TIMEOUT_SECONDS,
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
    stats: {
      ...countStates(definition),
      steps: template.steps.length,
      gates: plan.gated.size,
      branches: plan.branches.length,
      strategy: template.parallel_execution && plan.branches.length > 1 ? 'gated-parallel' : 'sequential',
    },
    type: template.engine === 'express' ? 'EXPRESS' : 'STANDARD',
  };
}

/**
 * Time the definition takes when every step succeeds at its first attempt and lasts
 * `durations[step_id]`, gates and records taking no time: each branch runs its states in order,
 * a gate opens when every step it waits for has finished. Read from the definition alone.
 */
export function definitionMakespan(definition: AslStateMachine, durations: Durations): number {
  const chains = chainsOf(definition);
  const finish = new Map<string, number>();
  let pending = chains.map((chain) => ({ chain, at: 0, next: 0 }));
  while (pending.length > 0) {
    let moved = false;
    for (const cursor of pending) {
      while (cursor.next < cursor.chain.length) {
        const state = cursor.chain[cursor.next] as AslState;
        const gate = gateOf(state);
        if (gate) {
          if (!gate.after.every((id) => finish.has(id))) break;
          cursor.at = Math.max(cursor.at, ...gate.after.map((id) => finish.get(id) as number));
        } else if (isStepTask(state)) {
          const id = taskStepId(state);
          cursor.at += durations[id] ?? 0;
          finish.set(id, cursor.at);
        }
        cursor.next++;
        moved = true;
      }
    }
    pending = pending.filter((c) => c.next < c.chain.length);
    if (!moved && pending.length > 0) throw new Error('the gates of the definition wait for each other');
  }
  return Math.max(0, ...finish.values());
}

/** The makespan of the compiled structure (see {@link definitionMakespan}). */
export function compiledMakespan(template: WorkflowTemplateInput, durations: Durations): number {
  const { definition } = compileWorkflow(template, { runStepFunctionArn: 'makespan' });
  return definitionMakespan(definition, durations);
}

/** The least makespan any schedule can achieve: the critical path of the step DAG. */
export function criticalPathMakespan(template: WorkflowTemplateInput, durations: Durations): number {
  return criticalPath(stepDag(validateTemplate(template)), durations).length;
}

/** Whether a state is a step's Task (gates and records are Tasks that are not). */
export function isStepTask(state: AslState): boolean {
  return state.Type === 'Task' && typeof stepPayload(state)?.stepId === 'string';
}

/** The step id a Task state runs. */
export function taskStepId(state: AslState): string {
  const stepId = stepPayload(state)?.stepId;
  if (state.Type !== 'Task' || typeof stepId !== 'string') throw new Error('not a compiled step Task state');
  return stepId;
}

/** The gate a Task state is, if it is one. */
export function gateOf(state: AslState): GatePayload['gate'] | undefined {
  return state.Type === 'Task' ? (stepPayload(state) as { gate?: GatePayload['gate'] })?.gate : undefined;
}

function stepPayload(state: AslState): { stepId?: unknown } | undefined {
  return (state.Parameters as { Payload?: { stepId?: unknown } } | undefined)?.Payload;
}

/** The success path of each branch (or of the definition itself when it has no Parallel). */
function chainsOf(definition: AslStateMachine): AslState[][] {
  const path = (machine: AslStateMachine): AslState[] => {
    const states: AslState[] = [];
    for (let name: string | undefined = machine.StartAt; name !== undefined; ) {
      const state: AslState | undefined = machine.States[name];
      if (!state) throw new Error(`state '${name}' is missing`);
      states.push(state);
      // A fan-out's Choice: its success path runs the items and goes on to the next step.
      name = state.End === true ? undefined : ((state.Next ?? state.Default) as string | undefined);
    }
    return states;
  };
  const top = path(definition);
  const parallel = top.find((state) => state.Type === 'Parallel');
  return parallel ? (parallel.Branches as AslStateMachine[]).map(path) : [top];
}

class Emitter {
  readonly #steps: Map<string, WorkflowStep>;
  readonly #template: WorkflowTemplate;
  readonly #arn: string;
  readonly #express: boolean;
  /** Steps some gate waits for (see `workflow`). */
  readonly #releasing = new Set<string>();

  constructor(template: WorkflowTemplate, arn: string) {
    this.#template = template;
    this.#steps = new Map(template.steps.map((s) => [s.step_id, s]));
    this.#arn = arn;
    this.#express = template.engine === 'express';
  }

  /** Adds every state to `states`: the chains (in a Parallel when there are several), then the end. */
  workflow(branches: string[][], gated: ReadonlySet<string>, states: Record<string, AslState>): string {
    // A step whose success a gate waits for records it on the control item; other successes are
    // known from the chain having moved on (every other end is always recorded).
    for (const id of gated)
      for (const dep of stepDag({ steps: [this.#steps.get(id) as WorkflowStep] }).get(id) ?? [])
        this.#releasing.add(dep);
    const end = this.#express ? RECORD_END_STATE : undefined;
    if (end) {
      states[end] = {
        ...this.#task(
          { end: { status: 'SUCCEEDED' } },
          'reports the end of the run: the Express execution cannot be described',
        ),
        End: true,
      };
    }
    if (branches.length === 1) return this.#chain(branches[0] as string[], gated, end, states);
    states[STEPS_STATE] = {
      Type: 'Parallel',
      Comment: `${branches.length} branches: each step starts when its own dependencies have finished`,
      Branches: branches.map((chain): AslStateMachine => {
        const branchStates: Record<string, AslState> = {};
        const start = this.#chain(chain, gated, undefined, branchStates);
        return { StartAt: start, States: reorder(branchStates, start) };
      }),
      ResultPath: null,
      ...link(end),
    };
    return STEPS_STATE;
  }

  /** A chain's states, the last step going to `next` (or ending); returns the first state. */
  #chain(
    chain: string[],
    gated: ReadonlySet<string>,
    next: string | undefined,
    states: Record<string, AslState>,
  ): string {
    let following = next;
    for (const id of [...chain].reverse()) {
      this.#step(this.#steps.get(id) as WorkflowStep, following, gated.has(id), states);
      following = this.#entry(id);
    }
    const head = chain[0] as string;
    return gated.has(head) ? gateName(head) : this.#entry(head);
  }

  /** The state a step starts with when it has no gate: its Task, or a fan-out's `(items)`. */
  #entry(stepId: string): string {
    return this.#steps.get(stepId)?.for_each ? fanOutNames(stepId).items : stepId;
  }

  /** A step's states; a `gated` step is entered through its gate. */
  #step(
    step: WorkflowStep,
    next: string | undefined,
    gated: boolean,
    states: Record<string, AslState>,
  ): void {
    const id = step.step_id;
    const retries = effectiveRetries(step, this.#template);
    const failed = `${id} (failed)`;
    const abort = `${id} (fail workflow)`;
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
    if (this.#releasing.has(id)) definition.releases = true;
    const kind = STEP_KINDS[kindOf(step)];
    Object.assign(definition, kind.definition(step));
    const task = kind.taskState(step);
    // Express runs cannot be paused: only their gated steps have a gate.
    const gate = this.#express && !gated ? undefined : gateName(id);
    if (gate) {
      states[gate] = {
        ...this.#task(
          // A chained step's gate only ever holds it while paused: its dependencies have ended.
          { gate: { stepId: id, after: gated ? (stepDag({ steps: [step] }).get(id) ?? []) : [] } },
          `holds '${id}' until its dependencies have ended and the run is not paused`,
          !this.#express,
        ),
        Next: this.#entry(id),
      };
    }
    const retry = [
      // Paused, cancelled, out of time, or input that cannot become valid: trying again cannot help.
      { ErrorEquals: [PAUSED_ERROR, ...NOT_RETRIED_ERRORS], MaxAttempts: 0 },
      BUSY_RETRY,
      ...(retries > 0
        ? [{ ErrorEquals: ['States.ALL'], MaxAttempts: retries, IntervalSeconds: 1, BackoffRate: 2 }]
        : []),
    ];
    const catches = [
      ...(gate && !this.#express ? [{ ErrorEquals: [PAUSED_ERROR], ResultPath: null, Next: gate }] : []),
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: failed },
    ];
    if (step.for_each) {
      this.#forEach(step, step.for_each, { definition, retry, catches, failed, next }, states);
    } else {
      states[id] = {
        Type: 'Task',
        Comment: step.name,
        Resource: task.Resource,
        Parameters: {
          FunctionName: this.#arn,
          Payload: {
            ...this.#runFields(),
            stepId: id,
            step: definition,
            'input.$': '$.input',
            ...task.payload,
          },
        },
        ResultPath: null,
        ...(step.timeout_seconds !== undefined ? { TimeoutSeconds: step.timeout_seconds } : {}),
        ...task.extra,
        Retry: retry,
        Catch: catches,
        ...link(next),
      };
    }
    states[failed] = {
      ...this.#task(
        {
          failed: { stepId: id, endsRun: step.on_failure === 'fail' },
          'error.$': '$.failure.Error',
          'cause.$': '$.failure.Cause',
        },
        `records that '${id}' failed and releases what waits for it`,
      ),
      ...(step.on_failure === 'continue' ? link(next) : { Next: abort }),
    };
    if (step.on_failure === 'fail') {
      states[abort] = {
        Type: 'Fail',
        Comment: `'${id}' has on_failure 'fail'`,
        ErrorPath: '$.failure.Error',
        Cause: `step '${id}' failed`,
      };
    }
  }

  /**
   * The states of a fan-out step (see the module comment): `(items)` resolves the list, a Choice
   * sends it to the inline Map (in the state) or the Distributed Map (a JSON artifact), or past
   * both when the step ended without running; each item runs in the Map's one Task with the
   * step's retries; `(collect)` gathers the items' outputs into the step's. A failure anywhere
   * goes to the step's `(failed)`.
   */
  #forEach(
    step: WorkflowStep,
    forEach: ForEach,
    parts: {
      definition: Record<string, unknown>;
      retry: AslState[];
      catches: AslState[];
      failed: string;
      next: string | undefined;
    },
    states: Record<string, AslState>,
  ): void {
    const id = step.step_id;
    const names = fanOutNames(id);
    const { definition, retry, catches, failed, next } = parts;
    const workflowId = this.#template.workflow_id;
    const toFailed = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: failed }];
    states[names.items] = {
      Type: 'Task',
      Comment: `${step.name}: the list of items`,
      Resource: LAMBDA_INVOKE,
      Parameters: {
        FunctionName: this.#arn,
        Payload: {
          ...this.#runFields(),
          stepId: id,
          step: definition,
          'input.$': '$.input',
          items: { from: forEach.items, distributed: !this.#express },
        },
      },
      ResultSelector: { 'list.$': '$.Payload' },
      ResultPath: '$.fanout',
      Retry: retry,
      Catch: catches,
      Next: names.size,
    };
    const after = next ?? names.ended;
    states[names.size] = {
      Type: 'Choice',
      Comment: this.#express
        ? `the items of '${id}' travel in the state; a step that has ended goes on`
        : `a short list travels in the state (inline Map), a long one as an artifact (Distributed Map); a step that has ended goes on`,
      Choices: [
        { Variable: '$.fanout.list.items', IsPresent: true, Next: names.inline },
        ...(this.#express
          ? []
          : [{ Variable: '$.fanout.list.bucket', IsPresent: true, Next: names.distributed }]),
      ],
      Default: after,
    };
    if (next === undefined) states[names.ended] = { Type: 'Pass', Comment: `'${id}' has ended`, End: true };
    // Each item's run gets what a step's Task gets, with the item: the Map's context holds it.
    const selector = {
      'executionId.$': '$$.Execution.Id',
      'run.$': '$.run',
      'input.$': '$.input',
      'item.$': '$$.Map.Item.Value',
      'index.$': '$$.Map.Item.Index',
    };
    const itemTask = (name: string) => ({
      StartAt: name,
      States: {
        [name]: {
          Type: 'Task',
          Comment: `${step.name}: one item`,
          Resource: LAMBDA_INVOKE,
          Parameters: {
            FunctionName: this.#arn,
            Payload: {
              'executionId.$': '$.executionId',
              'run.$': '$.run',
              workflowId,
              stepId: id,
              step: definition,
              'input.$': '$.input',
              'item.$': '$.item',
              'index.$': '$.index',
            },
          },
          // An item's run ends with its status alone: its output is in its item record.
          ResultSelector: { 'status.$': '$.Payload.status' },
          ResultPath: '$',
          ...(step.timeout_seconds !== undefined ? { TimeoutSeconds: step.timeout_seconds } : {}),
          Retry: retry,
          End: true,
        },
      },
    });
    states[names.inline] = {
      Type: 'Map',
      Comment: `runs each item of '${id}', at most ${forEach.max_concurrency} at a time`,
      ItemsPath: '$.fanout.list.items',
      ItemSelector: selector,
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...itemTask(names.item) },
      MaxConcurrency: forEach.max_concurrency,
      ResultPath: null,
      Catch: toFailed,
      Next: names.collect,
    };
    if (!this.#express) {
      states[names.distributed] = {
        Type: 'Map',
        Comment: `runs each item of '${id}' as a child execution, at most ${forEach.max_concurrency} at a time, reading the list from its artifact`,
        Label: mapLabel(id),
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { 'Bucket.$': '$.fanout.list.bucket', 'Key.$': '$.fanout.list.key' },
        },
        ItemSelector: selector,
        ItemProcessor: {
          ProcessorConfig: {
            Mode: 'DISTRIBUTED',
            ExecutionType: childExecutionType(step.timeout_seconds, effectiveRetries(step, this.#template)),
          },
          ...itemTask(names.child),
        },
        MaxConcurrency: forEach.max_concurrency,
        // The children's statuses go to the bucket, not into the state (which they could outgrow).
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { 'Bucket.$': '$.fanout.list.bucket', Prefix: `${MAP_RUNS_PREFIX}${workflowId}/${id}` },
        },
        ResultPath: null,
        Catch: toFailed,
        Next: names.collect,
      };
    }
    states[names.collect] = {
      ...this.#task(
        { collect: { stepId: id, 'count.$': '$.fanout.list.count' } },
        `gathers the outputs of the items of '${id}' into its output and releases what waits for it`,
      ),
      // The list is done with: the state keeps a status in its place.
      ResultSelector: { 'status.$': '$.Payload.status' },
      ResultPath: '$.fanout',
      // A transient failure should not waste the items' work; missing or failed items stay so.
      Retry: [
        { ErrorEquals: ['StepFailed', ...NOT_RETRIED_ERRORS], MaxAttempts: 0 },
        { ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 1, BackoffRate: 2 },
      ],
      Catch: toFailed,
      ...link(next),
    };
  }

  /** What every payload to the step handler carries: which execution, run and workflow. */
  #runFields(): Record<string, string> {
    return { 'executionId.$': '$$.Execution.Id', 'run.$': '$.run', workflowId: this.#template.workflow_id };
  }

  /** A Task that sends `fields` to the step handler and leaves the state as it was. */
  #task(fields: Record<string, unknown>, comment: string, waitForToken = false): AslState {
    return {
      Type: 'Task',
      Comment: comment,
      Resource: waitForToken ? LAMBDA_INVOKE_WAIT_FOR_TOKEN : LAMBDA_INVOKE,
      Parameters: {
        FunctionName: this.#arn,
        Payload: {
          ...this.#runFields(),
          ...fields,
          ...(waitForToken ? { 'taskToken.$': '$$.Task.Token' } : {}),
        },
      },
      ResultPath: null,
      Retry: SUPPORT_RETRY,
    };
  }
}

function gateName(stepId: string): string {
  return `${stepId} (gate)`;
}

/** Where a Distributed Map writes its children's statuses: under the artifact prefix, so the bucket's lifecycle rule applies. */
export const MAP_RUNS_PREFIX = 'artifacts/map-runs/';

/** The states of a fan-out step (see {@link fanOutNames}). */
export interface FanOutStateNames {
  items: string;
  size: string;
  ended: string;
  inline: string;
  distributed: string;
  item: string;
  child: string;
  collect: string;
}

/** The states of a fan-out step; each suffix keeps the name within 80 characters. */
export function fanOutNames(stepId: string): FanOutStateNames {
  return {
    items: `${stepId} (items)`,
    size: `${stepId} (list size)`,
    ended: `${stepId} (ended)`,
    inline: `${stepId} (inline)`,
    distributed: `${stepId} (distributed)`,
    item: `${stepId} (item)`,
    child: `${stepId} (child item)`,
    collect: `${stepId} (collect)`,
  };
}

function link(next: string | undefined): { Next: string } | { End: true } {
  return next === undefined ? { End: true } : { Next: next };
}

/** Lists states in reading order (each state, then its failure path, then what follows). */
function reorder(states: Record<string, AslState>, start: string): Record<string, AslState> {
  const ordered: Record<string, AslState> = {};
  const visit = (name: string | undefined) => {
    if (name === undefined || name in ordered) return;
    const state = states[name] as AslState;
    ordered[name] = state;
    for (const c of (state.Catch as { Next: string }[] | undefined) ?? []) visit(c.Next);
    for (const c of (state.Choices as { Next: string }[] | undefined) ?? []) visit(c.Next);
    visit((state.Next ?? state.Default) as string | undefined);
  };
  visit(start);
  for (const [name, state] of Object.entries(states)) if (!(name in ordered)) ordered[name] = state;
  return ordered;
}

function countStates(
  machine: AslStateMachine,
): Pick<CompileStats, 'states' | 'taskStates' | 'parallelStates' | 'failStates'> {
  const stats = { states: 0, taskStates: 0, parallelStates: 0, failStates: 0 };
  const walk = (m: AslStateMachine) => {
    for (const state of Object.values(m.States)) {
      stats.states++;
      if (state.Type === 'Task') stats.taskStates++;
      if (state.Type === 'Fail') stats.failStates++;
      if (state.Type === 'Parallel') {
        stats.parallelStates++;
        for (const branch of state.Branches as AslStateMachine[]) walk(branch);
      }
      if (state.Type === 'Map') walk(state.ItemProcessor as AslStateMachine);
    }
  };
  walk(machine);
  return stats;
}
