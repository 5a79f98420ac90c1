/**
 * Workflow compile: how close the compiled structure comes to the best possible schedule (with
 * step durations the compiler does not know), how many gates and states a successful run enters
 * (Standard workflows bill each state), and how long compilation takes, on random step DAGs from
 * the workflow tests' own generator.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  type AslState,
  type AslStateMachine,
  compileWorkflow,
  criticalPathMakespan,
  definitionMakespan,
  executionInput,
  MAX_DEFINITION_BYTES,
} from '../lib/core/workflow/compile.ts';
import { planBranches } from '../lib/core/workflow/dag.ts';
import { productLaunchCampaign } from '../lib/core/workflow/examples.ts';
import { MAX_STEPS, type WorkflowTemplateInput } from '../lib/core/workflow/template.ts';
import { durationsOf, randomDag, seeded, sid, templateOf } from '../test/unit/workflow/support.ts';
import { median, spread } from './routing-quality.ts';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:vobee-run-step';

/**
 * State transitions of a run in which every state succeeds at its first attempt: every state
 * entered counts once; a Parallel state counts itself plus the states entered in each branch.
 * The gates of gated branch heads are on the success path; the failure path (each step's
 * `(failed)` Task and Fail state) and the gates entered only when a paused run holds a step are
 * not. This is how Step Functions bills Standard workflows (retries would add one per attempt).
 */
export function successTransitions(machine: AslStateMachine): number {
  let count = 0;
  let name: string | undefined = machine.StartAt;
  while (name !== undefined) {
    const state: AslState | undefined = machine.States[name];
    if (!state) throw new Error(`state '${name}' is missing`);
    if (state.Type === 'Choice')
      throw new Error(`state '${name}' is a Choice: execute the definition instead`);
    count++;
    if (state.Type === 'Parallel') {
      for (const branch of state.Branches as AslStateMachine[]) count += successTransitions(branch);
    }
    name = state.End === true ? undefined : (state.Next as string | undefined);
  }
  return count;
}

type LocalHandler = (event: unknown) => unknown;

/** Names of the Task states of a machine, those inside Parallel branches included. */
export function taskStateNames(machine: AslStateMachine): string[] {
  return Object.entries(machine.States).flatMap(([name, state]) => {
    if (state.Type === 'Task') return [name];
    if (state.Type === 'Parallel') return (state.Branches as AslStateMachine[]).flatMap(taskStateNames);
    return [];
  });
}

/**
 * Executes a definition with aws-local-stepfunctions, Task states answered by `handlers` (by
 * state name), Wait states skipped, and counts the states entered: a check on
 * {@link successTransitions} that does not share its reading of the structure, and the only way
 * to count a definition with Choice states. A `.waitForTaskToken` Task (a Standard gate, a
 * callback step) is answered by its handler like a plain one: its handler's answer stands for
 * the task success that would release it, and `$$.Task.Token` reads a fixed token.
 */
export async function executedTransitions(
  definition: object,
  handlers: Record<string, LocalHandler>,
  input: unknown = {},
): Promise<{ transitions: number; entered: string[] }> {
  const { TimeoutSeconds, ...rest } = definition as AslStateMachine;
  const waits = Object.entries(rest.States)
    .filter(([, state]) => state.Type === 'Wait')
    .map(([name]) => [name, 0]);
  // The interpreter times a run with one Node.js timer, which fires at once beyond about 24.8
  // days: a Standard definition's one-year timeout is left out, as the local engine does.
  const runnable = TimeoutSeconds !== undefined && TimeoutSeconds <= MAX_TIMER_SECONDS ? definition : rest;
  const machine = new StateMachine(runnable as unknown as StateMachineDefinition, {
    validationOptions: { checkArn: false },
  });
  // The events of Parallel branches reach the root log through one async hop per level, and the
  // root log drops whatever arrives after the execution ended: handlers that answer on the next
  // turn of the event loop let every forwarded event arrive in time.
  const paced = Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      async (event: unknown) => {
        await new Promise((resolve) => setImmediate(resolve));
        return handler(event);
      },
    ]),
  );
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: paced as never,
      waitTimeOverrides: Object.fromEntries(waits),
    },
    context: {
      Execution: { Id: 'arn:aws:states:us-east-1:123456789012:execution:bench:run' },
      Task: { Token: 'bench-token' },
    } as never,
  });
  const entered: string[] = [];
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') entered.push(event.state.name);
  }
  await execution.result;
  return { transitions: entered.length, entered };
}

/** The longest delay a Node.js timer takes, in seconds. */
const MAX_TIMER_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

/** The run every bench execution works for. */
const RUN = { id: 'bench-run', deadline: '2099-01-01T00:00:00.000Z' };

/** Steps, gates and records alike answer at once: every state succeeds at its first attempt. */
const stepSucceeded: LocalHandler = () => ({ StatusCode: 200, Payload: { status: 'SUCCEEDED', output: {} } });

/** States a successful run of a compiled template enters, by executing it. */
export async function workflowTransitions(template: WorkflowTemplateInput) {
  const { definition } = compileWorkflow(template, { runStepFunctionArn: ARN });
  const handlers = Object.fromEntries(taskStateNames(definition).map((name) => [name, stepSucceeded]));
  return executedTransitions(definition, handlers, executionInput({}, RUN));
}

export interface WorkflowCompileOptions {
  dags: number;
  minSteps: number;
  maxSteps: number;
  seed: number;
  /** DAGs whose success-path count is checked by executing the definition. */
  executedChecks: number;
  largeSteps: number;
  timingRuns: number;
}

export const DEFAULT_WORKFLOW_OPTIONS: WorkflowCompileOptions = {
  dags: 200,
  minSteps: 10,
  maxSteps: 60,
  seed: 2026,
  executedChecks: 20,
  largeSteps: 1_000,
  timingRuns: 5,
};

interface DagResult {
  steps: number;
  ratio: number;
  gatesPerStep: number;
  branchesPerStep: number;
  transitionsPerStep: number;
  statesPerStep: number;
  definitionBytesPerStep: number;
  compileMs: number;
}

/** A random DAG as the workflow tests build them: permuted template order, durations 1-100. */
export function randomCase(n: number, random: () => number) {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const deps = randomDag(n, random);
  const order = deps.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = int(0, i);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const durations = durationsOf(deps.map(() => int(1, 100)));
  return { deps, template: templateOf(deps, { order }), durations };
}

function timeMs(f: () => unknown): number {
  const start = performance.now();
  f();
  return performance.now() - start;
}

export async function workflowCompile(options: WorkflowCompileOptions = DEFAULT_WORKFLOW_OPTIONS) {
  const random = seeded(options.seed);
  const results: DagResult[] = [];
  let checked = 0;
  const mismatches: Array<{ dag: number; structural: number; executed: number }> = [];
  for (let d = 0; d < options.dags; d++) {
    const n = options.minSteps + Math.floor(random() * (options.maxSteps - options.minSteps + 1));
    const { template, durations } = randomCase(n, random);
    const start = performance.now();
    const { definition, stats } = compileWorkflow(template, { runStepFunctionArn: ARN });
    const compileMs = performance.now() - start;
    const critical = criticalPathMakespan(template, durations);
    const transitions = successTransitions(definition);
    if (d < options.executedChecks) {
      const handlers = Object.fromEntries(taskStateNames(definition).map((name) => [name, stepSucceeded]));
      const executed = await executedTransitions(definition, handlers, executionInput({}, RUN));
      checked++;
      if (executed.transitions !== transitions)
        mismatches.push({ dag: d, structural: transitions, executed: executed.transitions });
    }
    results.push({
      steps: n,
      // The compiler never sees the durations: the definition is simulated with them afterwards.
      ratio: definitionMakespan(definition, durations) / critical,
      gatesPerStep: stats.gates / n,
      branchesPerStep: stats.branches / n,
      transitionsPerStep: transitions / n,
      statesPerStep: stats.states / n,
      definitionBytesPerStep: new TextEncoder().encode(JSON.stringify(definition)).length / n,
      compileMs,
    });
  }

  const pick = (key: keyof DagResult) => spread(results.map((r) => Number(r[key])));

  // The template schema stops at MAX_STEPS, so the 1,000-step figure is the planning core
  // (the branches and gates of planBranches), and the whole compiler is timed at the limit.
  const large = randomCase(options.largeSteps, seeded(options.seed + 1));
  const largeDag = new Map(large.deps.map((deps, i) => [sid(i), deps.map(sid)]));
  const planMs = Array.from({ length: options.timingRuns }, () => timeMs(() => planBranches(largeDag)));
  let largeCompile: { error?: string } = {};
  try {
    compileWorkflow(large.template, { runStepFunctionArn: ARN });
  } catch (error) {
    largeCompile = { error: (error as Error).message.slice(0, 300) };
  }
  const atLimit = randomCase(MAX_STEPS, seeded(options.seed + 2));
  const atLimitMs = Array.from({ length: options.timingRuns }, () =>
    timeMs(() => compileWorkflow(atLimit.template, { runStepFunctionArn: ARN })),
  );
  const atLimitDefinition = compileWorkflow(atLimit.template, { runStepFunctionArn: ARN }).definition;

  const example = await workflowTransitions(productLaunchCampaign);
  const exampleDefinition = compileWorkflow(productLaunchCampaign, { runStepFunctionArn: ARN }).definition;
  const unitDurations = Object.fromEntries(productLaunchCampaign.steps.map((s) => [s.step_id, 1]));

  return {
    setup: {
      dags: options.dags,
      steps: `${options.minSteps}-${options.maxSteps}`,
      generator:
        'test/unit/workflow/support.ts randomDag (each step waits for 0-3 earlier ones), template order permuted, durations uniform integers 1-100',
      seed: options.seed,
      definitions: {
        ratio:
          'makespan of the compiled definition, simulated with durations the compiler never saw / critical path of the DAG',
        gatesPerStep: 'gates on the success path (branch heads with dependencies) / steps',
        branchesPerStep: 'branches of the Parallel state (1 without one) / steps',
        transitions:
          'states entered by a run where every step succeeds at its first attempt: each step Task, each gate of a gated head, the Parallel (itself plus its branches); failure-path Tasks and Fail states, and gates entered only on pause, not entered',
        statesPerStep: 'all states of the definition (gates and failure paths included) / steps',
      },
    },
    makespan: { ratio: pick('ratio') },
    gatesPerStep: pick('gatesPerStep'),
    branchesPerStep: pick('branchesPerStep'),
    transitionsPerStep: pick('transitionsPerStep'),
    statesPerStep: pick('statesPerStep'),
    definitionBytesPerStep: pick('definitionBytesPerStep'),
    compileMs: pick('compileMs'),
    transitionCheck: { executed: checked, mismatches },
    large: {
      steps: options.largeSteps,
      planMedianMs: median(planMs),
      planRunsMs: planMs,
      compile: largeCompile,
      maxSteps: MAX_STEPS,
      compileAtMaxStepsMedianMs: median(atLimitMs),
      compileAtMaxStepsRunsMs: atLimitMs,
      definitionBytesAtMaxSteps: new TextEncoder().encode(JSON.stringify(atLimitDefinition)).length,
      /** At the measured bytes per step; Step Functions takes at most MAX_DEFINITION_BYTES. */
      projectedDefinitionBytes:
        spread(results.map((r) => r.definitionBytesPerStep)).mean * options.largeSteps,
      maxDefinitionBytes: MAX_DEFINITION_BYTES,
    },
    example: {
      name: productLaunchCampaign.workflow_id,
      steps: productLaunchCampaign.steps.length,
      transitions: example.transitions,
      entered: example.entered,
      stepsOnCriticalPath: definitionMakespan(exampleDefinition, unitDurations),
    },
  };
}

export type WorkflowCompileReport = Awaited<ReturnType<typeof workflowCompile>>;
