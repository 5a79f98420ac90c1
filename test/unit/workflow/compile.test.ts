import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AslState,
  type AslStateMachine,
  compiledMakespan,
  compileWorkflow,
  criticalPathMakespan,
  definitionMakespan,
  executionInput,
  gateOf,
  isStepTask,
  MAX_DEFINITION_BYTES,
  RECORD_END_STATE,
  STEPS_STATE,
  taskStepId,
} from '../../../lib/core/workflow/compile.ts';
import { planBranches } from '../../../lib/core/workflow/dag.ts';
import { generateAndAnalyze, productLaunchCampaign } from '../../../lib/core/workflow/examples.ts';
import { LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT_FOR_TOKEN } from '../../../lib/core/workflow/step-kinds.ts';
import {
  MAX_TIMEOUT_SECONDS,
  stepDag,
  validateTemplate,
  type WorkflowStepInput,
  type WorkflowTemplateInput,
} from '../../../lib/core/workflow/template.ts';
import { dagCase, durationsOf, sid, structuralPredecessors, templateOf } from './support.ts';

type AslValidator = (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:vobee-run-step';

/** asl-validator writes defaults into what it checks, so it gets a copy. */
function expectValidAsl(definition: AslStateMachine) {
  const { isValid, errorsText } = aslValidator(structuredClone(definition));
  expect(isValid, errorsText('\n')).toBe(true);
}

/** Every state of the definition, nested ones included, by name; fails on a name used twice. */
function allStates(machine: AslStateMachine): Map<string, AslState> {
  const found = new Map<string, AslState>();
  const walk = (m: AslStateMachine) => {
    for (const [name, state] of Object.entries(m.States)) {
      expect(found.has(name), `state name '${name}' is used twice`).toBe(false);
      found.set(name, state);
      if (state.Type === 'Parallel') for (const b of state.Branches as AslStateMachine[]) walk(b);
    }
  };
  walk(machine);
  return found;
}

/** The names along a machine's success path: from StartAt, following Next. */
function successPath(machine: AslStateMachine): string[] {
  const path: string[] = [];
  for (let name: string | undefined = machine.StartAt; name !== undefined; ) {
    path.push(name);
    const state = machine.States[name] as AslState;
    name = state.End === true ? undefined : (state.Next as string | undefined);
  }
  return path;
}

/** The branches of the `Steps` Parallel state (the definition itself when there is none). */
function branchesOf(machine: AslStateMachine): AslStateMachine[] {
  const parallel = machine.States[STEPS_STATE];
  return parallel ? (parallel.Branches as AslStateMachine[]) : [machine];
}

/** The step ids along each branch's success path. */
function chains(machine: AslStateMachine): string[][] {
  return branchesOf(machine).map((branch) =>
    successPath(branch).filter((name) => isStepTask(branch.States[name] as AslState)),
  );
}

const compile = (template: WorkflowTemplateInput) => compileWorkflow(template, { runStepFunctionArn: ARN });

const { timeout: _, ...untimedCampaign } = productLaunchCampaign;
const expressCampaign: WorkflowTemplateInput = { ...untimedCampaign, engine: 'express' };

/**
 * What gates, failure records and end records retry: not a cancelled or timed-out run; an
 * Express gate still waiting, for as long as an Express run lasts; anything else three times.
 */
/** What a step never retries: a paused, cancelled or timed-out run, bad input, an exceeded budget. */
const NOT_RETRIED = {
  ErrorEquals: [
    'WorkflowPaused',
    'WorkflowCancelled',
    'ValidationError',
    'WorkflowTimedOut',
    'BudgetExceeded',
  ],
  MaxAttempts: 0,
};

/** A step whose services are all at their flow limits is asked again, apart from its own retries. */
const BUSY_RETRY = { ErrorEquals: ['ServiceBusy'], IntervalSeconds: 1, BackoffRate: 1.5, MaxAttempts: 12 };

const SUPPORT_RETRY = [
  { ErrorEquals: ['WorkflowCancelled', 'WorkflowTimedOut'], MaxAttempts: 0 },
  { ErrorEquals: ['GateStillWaiting'], IntervalSeconds: 1, BackoffRate: 1, MaxAttempts: 15 },
  { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
];

/** A Task state sending `payload` to the step handler, beside the run's ids. */
const handlerTask = (workflowId: string, payload: Record<string, unknown>, resource = LAMBDA_INVOKE) => ({
  Type: 'Task',
  Comment: expect.any(String),
  Resource: resource,
  Parameters: {
    FunctionName: ARN,
    Payload: { 'executionId.$': '$$.Execution.Id', 'run.$': '$.run', workflowId, ...payload },
  },
  ResultPath: null,
});

/** The gate of a Standard step: waits for a task token, then enters the step. */
const standardGate = (workflowId: string, stepId: string, after: string[]) => ({
  ...handlerTask(
    workflowId,
    { gate: { stepId, after }, 'taskToken.$': '$$.Task.Token' },
    LAMBDA_INVOKE_WAIT_FOR_TOKEN,
  ),
  Retry: SUPPORT_RETRY,
  Next: stepId,
});

/** The Task that records a step's failure; `next` is where an on_failure 'continue' step goes on. */
const failedTask = (workflowId: string, stepId: string, endsRun: boolean, next: object) => ({
  ...handlerTask(workflowId, {
    failed: { stepId, endsRun },
    'error.$': '$.failure.Error',
    'cause.$': '$.failure.Cause',
  }),
  Retry: SUPPORT_RETRY,
  ...next,
});

/** A step of a template, by id. */
function stepOf(template: { steps: readonly WorkflowStepInput[] }, stepId: string): WorkflowStepInput {
  const step = template.steps.find((s) => s.step_id === stepId);
  if (!step) throw new Error(`no step ${stepId}`);
  return step;
}

/** A random mix of step options, so the property tests cover every kind of Task state. */
const stepOptions =
  (seed: number, callbacks = false) =>
  (i: number): Partial<WorkflowStepInput> => {
    const k = (seed + i * 7) % 12;
    return {
      on_failure: k % 3 === 0 ? 'continue' : 'fail',
      ...(k % 4 === 0 ? {} : { retries: k % 5 }),
      ...(k % 2 === 0 ? { timeout_seconds: 30 + k } : {}),
      ...(callbacks && k % 5 === 1 ? { callback: true, ...(k > 6 ? { heartbeat_seconds: 60 } : {}) } : {}),
    };
  };

// The smallest graph that is not series-parallel: a -> c, b -> c, b -> d.
const nShape: WorkflowTemplateInput = {
  workflow_id: 'n-shape',
  name: 'N',
  steps: [
    { step_id: 'a', name: 'A', factory_type: 'f', action: 'x' },
    { step_id: 'b', name: 'B', factory_type: 'f', action: 'x' },
    { step_id: 'c', name: 'C', factory_type: 'f', action: 'x', dependencies: ['a', 'b'] },
    { step_id: 'd', name: 'D', factory_type: 'f', action: 'x', dependencies: ['b'] },
  ],
};

describe('executionInput', () => {
  it('puts the run beside the input, where every step Task reads them', () => {
    const run = { id: 'run-1', deadline: '2027-01-01T01:00:00.000Z' };
    expect(executionInput({ product: 'VoBee' }, run)).toEqual({ input: { product: 'VoBee' }, run });
  });
});

describe('compileWorkflow: the product launch seed', () => {
  const { definition, stats, type } = compile(productLaunchCampaign);
  const id = productLaunchCampaign.workflow_id;

  it('runs its two chains as the branches of one Parallel, leaving the state as it was', () => {
    expect(definition.StartAt).toBe(STEPS_STATE);
    expect(Object.keys(definition.States)).toEqual([STEPS_STATE]);
    const parallel = definition.States[STEPS_STATE] as AslState;
    expect(parallel).toMatchObject({ Type: 'Parallel', ResultPath: null, End: true });
    expect(chains(definition)).toEqual([
      ['research_market', 'generate_images', 'generate_video'],
      ['discover_trends'],
    ]);
    // No branch head waits for anything: no gate is on the success path.
    expect(branchesOf(definition).map((b) => b.StartAt)).toEqual(['research_market', 'discover_trends']);
    for (const branch of branchesOf(definition)) {
      for (const name of successPath(branch)) expect(isStepTask(branch.States[name] as AslState)).toBe(true);
    }
  });

  it("takes Step Functions' longest timeout: the run's own limit is active time, checked by the step handler", () => {
    expect(definition.TimeoutSeconds).toBe(MAX_TIMEOUT_SECONDS);
    expect(type).toBe('STANDARD');
  });

  it('makes each step a Lambda Task that leaves the state alone, with retry, pause and failure catches', () => {
    expect(allStates(definition).get('generate_images')).toEqual({
      ...handlerTask(id, {
        stepId: 'generate_images',
        // The template's step, with the defaults filled in.
        step: {
          ...stepOf(productLaunchCampaign, 'generate_images'),
          any_of: [],
          on_failure: 'fail',
          retries: 3,
        },
        'input.$': '$.input',
      }),
      Comment: 'Product Images',
      Retry: [
        NOT_RETRIED,
        BUSY_RETRY,
        { ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 1, BackoffRate: 2 },
      ],
      Catch: [
        { ErrorEquals: ['WorkflowPaused'], ResultPath: null, Next: 'generate_images (gate)' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'generate_images (failed)' },
      ],
      Next: 'generate_video',
    });
  });

  it('gives every step a gate, entered here only when a paused run holds the step', () => {
    const states = allStates(definition);
    // A chained step is held only once its dependencies have ended: its gate waits for nothing else.
    expect(states.get('generate_images (gate)')).toEqual(standardGate(id, 'generate_images', []));
    expect(states.get('research_market (gate)')).toEqual(standardGate(id, 'research_market', []));
  });

  it("records a caught failure in a Task, then fails the workflow (on_failure 'fail')", () => {
    const states = allStates(definition);
    expect(states.get('generate_images (failed)')).toEqual(
      failedTask(id, 'generate_images', true, { Next: 'generate_images (fail workflow)' }),
    );
    expect(states.get('generate_images (fail workflow)')).toEqual({
      Type: 'Fail',
      Comment: expect.any(String),
      ErrorPath: '$.failure.Error',
      Cause: "step 'generate_images' failed",
    });
  });

  it('reports its shape', () => {
    expect(stats).toEqual({
      // Per step: its Task, its gate, its failure record and its Fail state; and the Parallel.
      states: 1 + 4 * 4,
      steps: 4,
      gates: 0,
      branches: 2,
      taskStates: 4 * 3,
      parallelStates: 1,
      failStates: 4,
      strategy: 'gated-parallel',
    });
  });

  it('achieves the critical path', () => {
    const durations = { research_market: 5, discover_trends: 20, generate_images: 4, generate_video: 3 };
    expect(criticalPathMakespan(productLaunchCampaign, durations)).toBe(20);
    expect(compiledMakespan(productLaunchCampaign, durations)).toBe(20);
    expect(compiledMakespan(productLaunchCampaign, { ...durations, generate_video: 30 })).toBe(39);
  });

  it('passes asl-validator', () => {
    expectValidAsl(definition);
  });
});

describe('compileWorkflow: the generate-and-analyze seed, a single chain', () => {
  const { definition, stats } = compile(generateAndAnalyze);

  it('puts the chain at the top level, without a Parallel', () => {
    expect(definition.StartAt).toBe('step1');
    expect(successPath(definition)).toEqual(['step1', 'step2']);
    expect(definition.States.step2?.End).toBe(true);
    expect(stats).toMatchObject({ branches: 1, gates: 0, parallelStates: 0, strategy: 'sequential' });
    expect(compiledMakespan(generateAndAnalyze, { step1: 2, step2: 3 })).toBe(5);
    expectValidAsl(definition);
  });
});

describe('compileWorkflow: the N shape (a -> c, b -> c, b -> d)', () => {
  const { definition, stats } = compile(nShape);

  it('starts d right after b, and holds c at a gate for a and b', () => {
    expect(chains(definition)).toEqual([['a'], ['b', 'd'], ['c']]);
    const [, second, third] = branchesOf(definition) as [AslStateMachine, AslStateMachine, AslStateMachine];
    expect(second.StartAt).toBe('b');
    expect(successPath(second)).toEqual(['b', 'd']);
    expect(third.StartAt).toBe('c (gate)');
    expect(successPath(third)).toEqual(['c (gate)', 'c']);
    expect(third.States['c (gate)']).toEqual(standardGate('n-shape', 'c', ['a', 'b']));
    expect(stats).toMatchObject({ steps: 4, gates: 1, branches: 3, strategy: 'gated-parallel' });
  });

  it('takes the critical path whichever steps are slow, with no estimate given', () => {
    expect(compiledMakespan(nShape, { a: 10, b: 1, c: 1, d: 10 })).toBe(11);
    expect(compiledMakespan(nShape, { a: 1, b: 1, c: 1, d: 10 })).toBe(11);
    expect(compiledMakespan(nShape, { a: 1, b: 1, c: 10, d: 1 })).toBe(11);
    expect(compiledMakespan(nShape, { a: 10, b: 1, c: 10, d: 1 })).toBe(20);
  });

  it('passes asl-validator on both engines', () => {
    expectValidAsl(definition);
    expectValidAsl(compile({ ...nShape, engine: 'express' }).definition);
  });
});

describe('compileWorkflow: an Express definition', () => {
  const { definition, stats, type } = compile(expressCampaign);
  const standard = compile(productLaunchCampaign);

  it("is an Express state machine bounded by the template's timeout", () => {
    expect(type).toBe('EXPRESS');
    expect(definition.TimeoutSeconds).toBe(300);
    expect(compile({ ...expressCampaign, timeout: 120 }).definition.TimeoutSeconds).toBe(120);
  });

  it("ends the success path in one 'Record end' Task after the steps", () => {
    expect(successPath(definition)).toEqual([STEPS_STATE, RECORD_END_STATE]);
    expect(definition.States[RECORD_END_STATE]).toEqual({
      ...handlerTask('product-launch-campaign', { end: { status: 'SUCCEEDED' } }),
      Retry: SUPPORT_RETRY,
      End: true,
    });
    expect(definition.States[STEPS_STATE]?.End).toBeUndefined();
  });

  it('has no pause catch and no gate where no branch head waits (runs cannot be paused)', () => {
    const states = allStates(definition);
    expect([...states.keys()].filter((name) => name.endsWith('(gate)'))).toEqual([]);
    expect(states.get('generate_images')?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'generate_images (failed)' },
    ]);
    // The run's end on failure is recorded by the failure record, which knows the step failed.
    expect(states.get('generate_images (failed)')).toEqual(
      failedTask('product-launch-campaign', 'generate_images', true, {
        Next: 'generate_images (fail workflow)',
      }),
    );
  });

  it('holds a gated head at a plain Lambda gate: the handler waits for its dependencies in-process', () => {
    const states = allStates(compile({ ...nShape, engine: 'express' }).definition);
    expect([...states.keys()].filter((name) => name.endsWith('(gate)'))).toEqual(['c (gate)']);
    expect(states.get('c (gate)')).toEqual({
      ...handlerTask('n-shape', { gate: { stepId: 'c', after: ['a', 'b'] } }),
      Retry: SUPPORT_RETRY,
      Next: 'c',
    });
  });

  it('keeps the step Tasks of the Standard definition, less the pause catch', () => {
    const expressStates = allStates(definition);
    const standardStates = allStates(standard.definition);
    for (const id of ['research_market', 'generate_images', 'generate_video', 'discover_trends']) {
      const { Catch, ...rest } = standardStates.get(id) as AslState;
      expect(expressStates.get(id)).toEqual({
        ...rest,
        Catch: (Catch as Array<{ ErrorEquals: string[] }>).filter(
          (c) => c.ErrorEquals[0] !== 'WorkflowPaused',
        ),
      });
    }
    expect(stats).toEqual({
      ...standard.stats,
      // The four gates go, the end record comes.
      states: standard.stats.states - 4 + 1,
      taskStates: standard.stats.taskStates - 4 + 1,
    });
  });

  it('has the makespan of the Standard definition: the end record is not a step', () => {
    const durations = { research_market: 5, discover_trends: 20, generate_images: 4, generate_video: 3 };
    expect(definitionMakespan(definition, durations)).toBe(20);
    expect(compiledMakespan(expressCampaign, { ...durations, generate_video: 30 })).toBe(39);
  });

  it("ends in 'Record end' after a sequential chain, and after a continued failure of the last step", () => {
    const sequential = compile({ ...expressCampaign, parallel_execution: false }).definition;
    const path = successPath(sequential);
    expect(path).toHaveLength(5);
    expect(path.at(-1)).toBe(RECORD_END_STATE);
    expectValidAsl(sequential);

    const continued = compile({
      workflow_id: 'w',
      name: 'W',
      engine: 'express',
      steps: [{ step_id: 'only', name: 'O', factory_type: 'f', action: 'x', on_failure: 'continue' }],
    }).definition;
    expect(Object.keys(continued.States)).toEqual(['only', 'only (failed)', RECORD_END_STATE]);
    expect(continued.States['only (failed)']?.Next).toBe(RECORD_END_STATE);
    expectValidAsl(continued);
  });

  it('passes asl-validator, as does the other seed', () => {
    expectValidAsl(definition);
    expectValidAsl(compile({ ...generateAndAnalyze, engine: 'express', timeout: 300 }).definition);
  });
});

describe('compileWorkflow: options of steps and templates', () => {
  const base: WorkflowTemplateInput = {
    workflow_id: 'w',
    name: 'W',
    steps: [
      {
        step_id: 'a',
        name: 'A',
        factory_type: 'media',
        action: 'x',
        retries: 0,
        on_failure: 'continue',
      },
      {
        step_id: 'b',
        name: 'B',
        factory_type: 'media',
        action: 'x',
        dependencies: ['a'],
        timeout_seconds: 90,
      },
    ],
  };

  it("goes on to the next step after recording a failure (on_failure 'continue'), with no Fail state", () => {
    const states = allStates(compile(base).definition);
    expect(states.get('a (failed)')).toEqual(failedTask('w', 'a', false, { Next: 'b' }));
    expect(states.has('a (fail workflow)')).toBe(false);
    // The last step of a branch ends it.
    const last = allStates(compile(nShape).definition);
    expect(
      allStates(
        compile({ ...nShape, steps: nShape.steps.map((s) => ({ ...s, on_failure: 'continue' as const })) })
          .definition,
      ).get('d (failed)')?.End,
    ).toBe(true);
    expect(last.get('d (failed)')?.Next).toBe('d (fail workflow)');
  });

  it('retries no error of a step with 0 retries', () => {
    const states = allStates(compile(base).definition);
    expect(states.get('a')?.Retry).toEqual([NOT_RETRIED, BUSY_RETRY]);
  });

  it('uses the workflow max_retries for steps without retries, and the step timeout', () => {
    const states = allStates(compile({ ...base, max_retries: 5, timeout: 600 }).definition);
    expect(states.get('b')).toMatchObject({
      TimeoutSeconds: 90,
      Retry: [{}, BUSY_RETRY, { MaxAttempts: 5 }],
    });
    expect(states.get('a')?.TimeoutSeconds).toBeUndefined();
    // A Standard run's timeout is kept by the step handler, not by the definition.
    expect(compile({ ...base, timeout: 600 }).definition.TimeoutSeconds).toBe(MAX_TIMEOUT_SECONDS);
  });

  it('waits for a callback step with its task token and a heartbeat', () => {
    const template: WorkflowTemplateInput = {
      ...base,
      steps: [
        base.steps[0] as WorkflowStepInput,
        { ...(base.steps[1] as WorkflowStepInput), callback: true, heartbeat_seconds: 45 },
      ],
    };
    const states = allStates(compile(template).definition);
    expect(states.get('b')).toMatchObject({
      Resource: LAMBDA_INVOKE_WAIT_FOR_TOKEN,
      HeartbeatSeconds: 45,
      ResultPath: null,
      Parameters: { Payload: { 'taskToken.$': '$$.Task.Token', step: { callback: true } } },
    });
    expect(states.get('a')?.Resource).toBe(LAMBDA_INVOKE);
    const { heartbeat_seconds: _heartbeat, ...quiet } = template.steps[1] as WorkflowStepInput;
    const defaulted = compile({ ...template, steps: [{ ...quiet, dependencies: [] }] });
    expect(allStates(defaulted.definition).get('b')?.HeartbeatSeconds).toBe(300);
  });

  it.each(['standard', 'express'] as const)(
    'keeps state names unique and within 80 characters for the longest step ids (%s)',
    (engine) => {
      const long = (c: string) => c.repeat(64);
      const { definition, stats } = compile({
        workflow_id: 'w',
        name: 'W',
        engine,
        steps: [
          { step_id: long('a'), name: 'A', factory_type: 'f', action: 'x' },
          { step_id: long('b'), name: 'B', factory_type: 'f', action: 'x' },
          {
            step_id: long('c'),
            name: 'C',
            factory_type: 'f',
            action: 'x',
            dependencies: [long('a'), long('b')],
          },
        ],
      });
      expect(stats.gates).toBe(1);
      for (const name of allStates(definition).keys()) expect(name.length).toBeLessThanOrEqual(80);
      expectValidAsl(definition);
    },
  );

  it('runs one step at a time in a stable topological order without parallel execution', () => {
    const deps = [[], [], [0], [], [2, 1]];
    const { definition, stats } = compile(
      templateOf(deps, { order: [4, 3, 2, 1, 0], parallel_execution: false }),
    );
    expect(successPath(definition)).toEqual([sid(3), sid(1), sid(0), sid(2), sid(4)]);
    expect(stats).toMatchObject({ strategy: 'sequential', parallelStates: 0, branches: 1, gates: 0 });
    // Each step still has its gate, for a pause; it holds the step only while the run is paused.
    expect(allStates(definition).get(`${sid(4)} (gate)`)).toMatchObject({
      Parameters: { Payload: { gate: { stepId: sid(4), after: [] } } },
    });
    expect(definitionMakespan(definition, durationsOf([1, 2, 3, 4, 5]))).toBe(15);
    expectValidAsl(definition);
  });

  it('runs as many branches as there are independent steps, in one Parallel', () => {
    const deps = Array.from({ length: 150 }, () => []);
    const { definition, stats } = compile(templateOf(deps));
    expect(stats).toMatchObject({ branches: 150, parallelStates: 1, gates: 0 });
    expect(definitionMakespan(definition, durationsOf(deps.map((_, i) => i + 1)))).toBe(150);
    expectValidAsl(definition);
  });

  it('refuses a template whose definition would exceed the Step Functions size limit', () => {
    const bulky = templateOf(
      Array.from({ length: 120 }, () => []),
      { step: () => ({ parameters: { text: 'x'.repeat(MAX_DEFINITION_BYTES / 100) } }) },
    );
    expect(() => compile(bulky)).toThrow(
      /steps: the compiled state machine takes \d+ bytes, more than the 1048576/,
    );
  });

  it('starts a sequential or a single-step template at its first Task state', () => {
    expect(compile({ ...base, parallel_execution: false }).definition.StartAt).toBe('a');
    const single = compile({
      ...base,
      steps: [{ step_id: 'only', name: 'O', factory_type: 'f', action: 'x' }],
    });
    expect(single.definition.StartAt).toBe('only');
    expect(Object.keys(single.definition.States)).toEqual([
      'only',
      'only (gate)',
      'only (failed)',
      'only (fail workflow)',
    ]);
    expectValidAsl(single.definition);
  });

  it('validates the template it is given', () => {
    expect(() => compile({ ...base, steps: [] })).toThrow('steps: must contain at least one step');
  });
});

describe('definitionMakespan', () => {
  it('counts steps only, gates and records taking no time, and a missing duration as 0', () => {
    const { definition } = compile(nShape);
    expect(definitionMakespan(definition, {})).toBe(0);
    expect(definitionMakespan(definition, { c: 7 })).toBe(7);
  });

  it('refuses gates that wait for each other', () => {
    const { definition } = compile(nShape);
    const broken = structuredClone(definition);
    const [first] = (broken.States[STEPS_STATE] as AslState).Branches as AslStateMachine[];
    // Hold a behind a gate that waits for c, which waits for a.
    (first as AslStateMachine).StartAt = 'a (gate)';
    (
      (first as AslStateMachine).States['a (gate)'] as { Parameters: { Payload: { gate: object } } }
    ).Parameters.Payload.gate = { stepId: 'a', after: ['c'] };
    expect(() => definitionMakespan(broken, {})).toThrow('the gates of the definition wait for each other');
  });
});

describe('compileWorkflow on random DAGs (10-60 steps)', () => {
  it('always emits a definition that asl-validator accepts', () => {
    // asl-validator compiles its JSON schemas on every call (~0.1 s), hence fewer runs here.
    fc.assert(
      fc.property(
        dagCase(),
        fc.boolean(),
        fc.constantFrom('standard' as const, 'express' as const),
        fc.nat(),
        ({ deps, order }, parallel, engine, seed) => {
          const template = templateOf(deps, {
            order,
            parallel_execution: parallel,
            engine,
            step: stepOptions(seed, engine === 'standard'),
          });
          expectValidAsl(compile(template).definition);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('runs every step exactly once, after all of its dependencies, under unique short names', () => {
    fc.assert(
      fc.property(
        dagCase(),
        fc.boolean(),
        fc.constantFrom('standard' as const, 'express' as const),
        fc.nat(),
        ({ deps, order }, parallel, engine, seed) => {
          const template = templateOf(deps, {
            order,
            parallel_execution: parallel,
            engine,
            step: stepOptions(seed, engine === 'standard'),
          });
          const { definition } = compile(template);
          const { before, occurrences } = structuralPredecessors(definition);
          expect([...occurrences.keys()].sort()).toEqual(deps.map((_, i) => sid(i)).sort());
          for (const count of occurrences.values()) expect(count).toBe(1);
          deps.forEach((ds, j) => {
            for (const d of ds) expect(before.get(sid(j))?.has(sid(d))).toBe(true);
          });
          for (const name of allStates(definition).keys()) expect(name.length).toBeLessThanOrEqual(80);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('achieves exactly the critical path, with durations the compiler does not know', () => {
    fc.assert(
      fc.property(
        dagCase(),
        fc.constantFrom('standard' as const, 'express' as const),
        ({ deps, order, durations }, engine) => {
          const template = templateOf(deps, { order, engine });
          const times = durationsOf(durations);
          expect(compiledMakespan(template, times)).toBe(criticalPathMakespan(template, times));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes the sum of durations when sequential, in topological order and without a Parallel', () => {
    fc.assert(
      fc.property(dagCase(), ({ deps, order, durations }) => {
        const template = templateOf(deps, { order, parallel_execution: false });
        const { definition, stats } = compile(template);
        expect(stats).toMatchObject({ parallelStates: 0, branches: 1, gates: 0, strategy: 'sequential' });
        const path = successPath(definition).filter((name) =>
          isStepTask(definition.States[name] as AslState),
        );
        const position = new Map(path.map((id, i) => [id, i]));
        expect(path).toHaveLength(deps.length);
        deps.forEach((ds, j) => {
          for (const d of ds) expect(position.get(sid(d))).toBeLessThan(position.get(sid(j)) as number);
        });
        expect(definitionMakespan(definition, durationsOf(durations))).toBe(
          durations.reduce((a, b) => a + b, 0),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('follows the branch plan: chains without gates, gated heads entered through theirs', () => {
    fc.assert(
      fc.property(
        dagCase(),
        fc.constantFrom('standard' as const, 'express' as const),
        ({ deps, order }, engine) => {
          const template = templateOf(deps, { order, engine });
          const { definition, stats } = compile(template);
          const plan = planBranches(stepDag(validateTemplate(template)));
          expect(chains(definition)).toEqual(plan.branches);
          const gatesEntered = branchesOf(definition).flatMap((branch) =>
            successPath(branch)
              .map((name) => gateOf(branch.States[name] as AslState))
              .filter((gate) => gate !== undefined),
          );
          expect(gatesEntered.map((gate) => gate.stepId).sort()).toEqual([...plan.gated].sort());
          for (const gate of gatesEntered) {
            expect(gate.after).toEqual(deps[Number(gate.stepId.slice(1))]?.map(sid));
          }
          expect(stats).toMatchObject({
            steps: deps.length,
            gates: plan.gated.size,
            branches: plan.branches.length,
            parallelStates: plan.branches.length > 1 ? 1 : 0,
            strategy: plan.branches.length > 1 ? 'gated-parallel' : 'sequential',
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('wires every step to its gate, its failure record and its Fail state, as its engine and on_failure say', () => {
    fc.assert(
      fc.property(
        dagCase(),
        fc.boolean(),
        fc.constantFrom('standard' as const, 'express' as const),
        fc.nat(),
        ({ deps, order }, parallel, engine, seed) => {
          const options = stepOptions(seed, engine === 'standard');
          const template = templateOf(deps, { order, parallel_execution: parallel, engine, step: options });
          const { definition, stats } = compile(template);
          const express = engine === 'express';
          const states = allStates(definition);
          const gated = new Set(
            branchesOf(definition)
              .map((b) => b.StartAt)
              .filter((name) => name.endsWith(' (gate)'))
              .map((name) => name.slice(0, -' (gate)'.length)),
          );
          // Where each step goes on success: the next step of its chain, or the end of its branch.
          const next = new Map<string, string | undefined>();
          for (const branch of branchesOf(definition)) {
            const path = successPath(branch);
            path.forEach((name, i) => {
              if (isStepTask(branch.States[name] as AslState)) next.set(name, path[i + 1]);
            });
          }
          for (let i = 0; i < deps.length; i++) {
            const id = sid(i);
            const step = states.get(id) as AslState;
            expect(taskStepId(step)).toBe(id);
            // A step records its success only when a gate waits for it.
            const awaited = [...gated].some((g) => (deps[Number(g.slice(1))] as number[]).includes(i));
            const definitionOf = (step.Parameters as { Payload: { step: { releases?: boolean } } }).Payload
              .step;
            expect(definitionOf.releases === true).toBe(awaited);
            const callback = options(i).callback === true;
            expect(step.Resource).toBe(callback ? LAMBDA_INVOKE_WAIT_FOR_TOKEN : LAMBDA_INVOKE);
            expect(step.ResultPath).toBeNull();
            const gate = states.get(`${id} (gate)`);
            if (express && !gated.has(id)) expect(gate).toBeUndefined();
            else {
              expect(gate).toMatchObject({
                Resource: express ? LAMBDA_INVOKE : LAMBDA_INVOKE_WAIT_FOR_TOKEN,
                Next: id,
                Parameters: {
                  Payload: {
                    gate: { stepId: id, after: gated.has(id) ? (deps[i] as number[]).map(sid) : [] },
                  },
                },
              });
              const payload = (gate?.Parameters as { Payload?: object } | undefined)?.Payload ?? {};
              expect('taskToken.$' in payload).toBe(!express);
            }
            expect(step.Catch).toEqual([
              ...(express
                ? []
                : [{ ErrorEquals: ['WorkflowPaused'], ResultPath: null, Next: `${id} (gate)` }]),
              { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: `${id} (failed)` },
            ]);
            const fails = options(i).on_failure !== 'continue';
            const failed = states.get(`${id} (failed)`) as AslState;
            expect(failed).toMatchObject({
              Type: 'Task',
              ResultPath: null,
              Parameters: { Payload: { failed: { stepId: id, endsRun: fails } } },
            });
            const after = next.get(id);
            expect(step.Next).toBe(after);
            expect(step.End).toBe(after === undefined ? true : undefined);
            if (fails) {
              expect(failed.Next).toBe(`${id} (fail workflow)`);
              expect(states.get(`${id} (fail workflow)`)).toMatchObject({ Type: 'Fail' });
            } else {
              expect(states.has(`${id} (fail workflow)`)).toBe(false);
              expect(failed.Next).toBe(after);
              expect(failed.End).toBe(after === undefined ? true : undefined);
            }
          }
          const failing = deps.filter((_, i) => options(i).on_failure !== 'continue').length;
          const gates = express ? gated.size : deps.length;
          expect(stats.failStates).toBe(failing);
          expect(stats.taskStates).toBe(2 * deps.length + gates + (express ? 1 : 0));
          expect(stats.states).toBe(stats.taskStates + failing + stats.parallelStates);
          for (const state of states.values()) expect(state.Type).not.toBe('Pass');
        },
      ),
      { numRuns: 100 },
    );
  });

  it("routes an Express run's success through 'Record end' once, at the top level", () => {
    fc.assert(
      fc.property(dagCase(), fc.boolean(), fc.nat(), ({ deps, order }, parallel, seed) => {
        const template = templateOf(deps, {
          order,
          parallel_execution: parallel,
          engine: 'express',
          step: stepOptions(seed),
        });
        const { definition } = compile(template);
        expect(successPath(definition).at(-1)).toBe(RECORD_END_STATE);
        expect(definition.States[RECORD_END_STATE]?.End).toBe(true);
        const ends = [...allStates(definition).values()].filter(
          (state) => (state.Parameters as { Payload?: { end?: unknown } } | undefined)?.Payload?.end,
        );
        expect(ends).toHaveLength(1);
        // Inside branches, nothing reaches the end record: the branches end within their Parallel.
        for (const branch of definition.States[STEPS_STATE] ? branchesOf(definition) : []) {
          for (const state of Object.values(branch.States)) expect(state.Next).not.toBe(RECORD_END_STATE);
        }
      }),
      { numRuns: 100 },
    );
  });
});
