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
  isStepTask,
  MAX_BRANCHES,
  MAX_DEFINITION_BYTES,
  RECORD_END_STATE,
} from '../../../lib/core/workflow/compile.ts';
import { generateAndAnalyze, productLaunchCampaign } from '../../../lib/core/workflow/examples.ts';
import type { WorkflowStepInput } from '../../../lib/core/workflow/template.ts';
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

/** Every state of the definition, nested ones included, by name. */
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

/** The States of the definition and of every Parallel branch in it, each map by itself. */
function stateMaps(machine: AslStateMachine): Record<string, AslState>[] {
  return [
    machine.States,
    ...Object.values(machine.States).flatMap((state) =>
      state.Type === 'Parallel' ? (state.Branches as AslStateMachine[]).flatMap(stateMaps) : [],
    ),
  ];
}

/** The names along the success path of the top level: from StartAt, following Next. */
function topLevelPath(machine: AslStateMachine): string[] {
  const path: string[] = [];
  for (let name: string | undefined = machine.StartAt; name !== undefined; ) {
    path.push(name);
    name = (machine.States[name] as AslState).Next as string | undefined;
  }
  return path;
}

const compile = (template: Parameters<typeof compileWorkflow>[0]) =>
  compileWorkflow(template, { runStepFunctionArn: ARN });

const { timeout: _, ...untimedCampaign } = productLaunchCampaign;
const expressCampaign = { ...untimedCampaign, engine: 'express' as const };

/** The Lambda faults an end record retries. */
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

/** A Task state of the campaign calling the step function with `payload`, beside the run's ids. */
const campaignLambdaTask = (payload: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: {
    FunctionName: ARN,
    Payload: { 'executionId.$': '$$.Execution.Id', workflowId: 'product-launch-campaign', ...payload },
  },
});

/** The Lambda Task with which an Express run of the campaign records its end `end`. */
const recordEndTask = (end: Record<string, string>, rest: Partial<AslState>) => ({
  ...campaignLambdaTask({ end, 'results.$': '$.results' }),
  Comment: expect.any(String),
  ResultPath: null,
  Retry: [LAMBDA_RETRY],
  ...rest,
});

/** A step of a template, by id. */
function stepOf(template: { steps: readonly WorkflowStepInput[] }, stepId: string): WorkflowStepInput {
  const step = template.steps.find((s) => s.step_id === stepId);
  if (!step) throw new Error(`no step ${stepId}`);
  return step;
}

/** A random mix of step options, so the property tests cover every kind of Task state. */
const stepOptions =
  (seed: number) =>
  (i: number): Partial<WorkflowStepInput> => {
    const k = (seed + i * 7) % 12;
    return {
      on_failure: k % 3 === 0 ? 'continue' : 'fail',
      ...(k % 4 === 0 ? {} : { retries: k % 5 }),
      ...(k % 2 === 0 ? { timeout_seconds: 30 + k } : {}),
    };
  };

describe('compileWorkflow: the product launch seed', () => {
  const { definition, stats } = compile(productLaunchCampaign);

  it('starts with one Parallel state that runs the two independent chains, and nothing else at top level', () => {
    expect(definition.StartAt).toBe('Parallel 1');
    expect(Object.keys(definition.States)).toEqual(['Parallel 1']);
    expect(definition.TimeoutSeconds).toBe(3_600);
    const parallel = definition.States['Parallel 1'] as AslState;
    expect(parallel.End).toBe(true);
    const [left, right] = parallel.Branches as [AslStateMachine, AslStateMachine];
    expect(left.StartAt).toBe('research_market');
    expect(left.States.research_market?.Next).toBe('generate_images');
    expect(left.States.generate_images?.Next).toBe('generate_video');
    expect(left.States.generate_video?.End).toBe(true);
    expect(right.StartAt).toBe('discover_trends');
    expect(right.States.discover_trends?.End).toBe(true);
    expect(parallel.ResultSelector).toEqual({
      'input.$': '$[0].input',
      'results.$': 'States.JsonMerge($[0].results, $[1].results, false)',
    });
  });

  it('makes each step a Lambda Task that records its result under its id, with retry and catch', () => {
    const task = allStates(definition).get('generate_images');
    const payload = {
      stepId: 'generate_images',
      // The template's step, with the defaults filled in.
      step: {
        ...stepOf(productLaunchCampaign, 'generate_images'),
        any_of: [],
        on_failure: 'fail',
        retries: 3,
      },
      'input.$': '$.input',
      'results.$': '$.results',
    };
    expect(task).toEqual({
      ...campaignLambdaTask(payload),
      Comment: 'Product Images',
      ResultSelector: { 'status.$': '$.Payload.status' },
      ResultPath: '$.results.generate_images',
      Retry: [
        { ErrorEquals: ['WorkflowPaused'], IntervalSeconds: 5, BackoffRate: 1, MaxAttempts: 99_999_999 },
        { ErrorEquals: ['WorkflowCancelled', 'ValidationError'], MaxAttempts: 0 },
        { ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 1, BackoffRate: 2 },
      ],
      Catch: [
        {
          ErrorEquals: ['States.ALL'],
          ResultPath: '$.results.generate_images',
          Next: 'generate_images (failed)',
        },
      ],
      Next: 'generate_video',
    });
  });

  it('records a caught failure in place, then fails the workflow (on_failure fail)', () => {
    const states = allStates(definition);
    expect(states.get('generate_images (failed)')).toEqual({
      Type: 'Pass',
      Comment: expect.any(String),
      Parameters: { status: 'FAILED', 'error.$': '$.results.generate_images.Error' },
      ResultPath: '$.results.generate_images',
      Next: 'generate_images (fail workflow)',
    });
    expect(states.get('generate_images (fail workflow)')).toEqual({
      Type: 'Fail',
      Comment: expect.any(String),
      ErrorPath: '$.results.generate_images.error',
      Cause: "step 'generate_images' failed",
    });
  });

  it('reports its shape', () => {
    expect(stats).toEqual({
      states: 1 + 4 * 3,
      taskStates: 4,
      parallelStates: 1,
      passStates: 4,
      failStates: 4,
      parallelDepth: 1,
      strategy: 'series-parallel',
      cuts: 0,
    });
  });

  it('is a Standard state machine unless the template asks for Express', () => {
    expect(compile(productLaunchCampaign).type).toBe('STANDARD');
    const express = compile(expressCampaign);
    expect(express.type).toBe('EXPRESS');
    expect(express.definition.TimeoutSeconds).toBe(300);
  });

  it('records no end: every Task state is a step, and the top level ends in the Parallel', () => {
    const states = allStates(definition);
    expect(states.has(RECORD_END_STATE)).toBe(false);
    expect([...states.keys()].filter((name) => name.includes('(record end)'))).toEqual([]);
    const tasks = [...states.values()].filter((state) => state.Type === 'Task');
    expect(tasks).toHaveLength(4);
    for (const task of tasks) expect(isStepTask(task)).toBe(true);
    expect(topLevelPath(definition)).toEqual(['Parallel 1']);
  });

  it('passes asl-validator, as does the other seed', () => {
    expectValidAsl(definition);
    expectValidAsl(compile(generateAndAnalyze).definition);
  });

  it('achieves the critical path', () => {
    const durations = { research_market: 5, discover_trends: 20, generate_images: 4, generate_video: 3 };
    expect(criticalPathMakespan(productLaunchCampaign, durations)).toBe(20);
    expect(compiledMakespan(productLaunchCampaign, durations)).toBe(20);
    expect(compiledMakespan(productLaunchCampaign, { ...durations, generate_video: 30 })).toBe(39);
  });
});

describe('compileWorkflow: an Express definition reports the end of its run', () => {
  const { definition, stats } = compile(expressCampaign);
  const standard = compile(productLaunchCampaign).definition;
  const steps = ['research_market', 'generate_images', 'generate_video', 'discover_trends'];

  it("ends the top level's success path in one 'Record end' Task after the Parallel", () => {
    expect(Object.keys(definition.States)).toEqual(['Parallel 1', RECORD_END_STATE]);
    expect(topLevelPath(definition)).toEqual(['Parallel 1', RECORD_END_STATE]);
    const parallel = definition.States['Parallel 1'] as AslState;
    expect(parallel.End).toBeUndefined();
    const [left, right] = parallel.Branches as [AslStateMachine, AslStateMachine];
    expect(left.States.generate_video?.End).toBe(true);
    expect(right.States.discover_trends?.End).toBe(true);
    expect(definition.States[RECORD_END_STATE]).toEqual(
      recordEndTask({ status: 'SUCCEEDED' }, { End: true }),
    );
  });

  it("reports a failing on_failure 'fail' step in a Task between its Pass and its Fail, in its branch", () => {
    const [left] = (definition.States['Parallel 1'] as AslState).Branches as AslStateMachine[];
    expect(left?.States['generate_images (failed)']?.Next).toBe('generate_images (record end)');
    expect(left?.States['generate_images (record end)']).toEqual(
      recordEndTask(
        { status: 'FAILED', stepId: 'generate_images' },
        {
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'generate_images (fail workflow)' }],
          Next: 'generate_images (fail workflow)',
        },
      ),
    );
    const states = allStates(definition);
    for (const id of steps) {
      expect(states.get(`${id} (failed)`)?.Next).toBe(`${id} (record end)`);
      expect(states.get(`${id} (record end)`)?.Next).toBe(`${id} (fail workflow)`);
      expect(states.get(`${id} (fail workflow)`)?.Type).toBe('Fail');
      expect(states.get(`${id} (fail workflow)`)).toEqual(allStates(standard).get(`${id} (fail workflow)`));
    }
  });

  it('keeps the step Tasks of the Standard definition, and adds only the end records', () => {
    const expressStates = allStates(definition);
    const standardStates = allStates(standard);
    for (const id of steps) expect(expressStates.get(id)).toEqual(standardStates.get(id));
    expect([...expressStates.keys()].sort()).toEqual(
      [...standardStates.keys(), RECORD_END_STATE, ...steps.map((id) => `${id} (record end)`)].sort(),
    );
    // The Standard shape (pinned above), with four step end records and the run's end record.
    expect(stats).toEqual({
      ...compile(productLaunchCampaign).stats,
      states: 1 + 4 * 4 + 1,
      taskStates: 4 + 4 + 1,
    });
  });

  it('has the makespan of the Standard definition: the end records are not steps', () => {
    const durations = { research_market: 5, discover_trends: 20, generate_images: 4, generate_video: 3 };
    expect(definitionMakespan(definition, durations)).toBe(20);
    expect(compiledMakespan(expressCampaign, { ...durations, generate_video: 30 })).toBe(39);
  });

  it("ends in 'Record end' after a last Task, and after a continued failure of the last step", () => {
    const sequential = compile({ ...expressCampaign, parallel_execution: false }).definition;
    const path = topLevelPath(sequential);
    expect(path).toHaveLength(5);
    expect(path.at(-1)).toBe(RECORD_END_STATE);
    expect(sequential.States[path.at(-2) as string]?.Next).toBe(RECORD_END_STATE);
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
  const base = {
    workflow_id: 'w',
    name: 'W',
    steps: [
      {
        step_id: 'a',
        name: 'A',
        factory_type: 'media',
        action: 'x',
        retries: 0,
        on_failure: 'continue' as const,
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

  it('continues after a failed step with on_failure continue, and retries only pauses for 0 retries', () => {
    const states = allStates(compile(base).definition);
    expect(
      (states.get('a')?.Retry as Array<{ ErrorEquals: string[] }> | undefined)?.map((r) => r.ErrorEquals[0]),
    ).toEqual(['WorkflowPaused', 'WorkflowCancelled']);
    expect(states.get('a (failed)')?.Next).toBe('b');
    expect(states.has('a (fail workflow)')).toBe(false);
  });

  it('uses the workflow max_retries for steps without retries, and the step timeout', () => {
    const states = allStates(compile({ ...base, max_retries: 5, timeout: 600 }).definition);
    expect(states.get('b')).toMatchObject({ TimeoutSeconds: 90, Retry: [{}, {}, { MaxAttempts: 5 }] });
    expect(compile({ ...base, timeout: 600 }).definition.TimeoutSeconds).toBe(600);
  });

  it.each(['standard', 'express'] as const)(
    'keeps state names unique and within 80 characters for the longest step ids (%s)',
    (engine) => {
      const long = (c: string) => c.repeat(64);
      const { definition } = compile({
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
      for (const name of allStates(definition).keys()) expect(name.length).toBeLessThanOrEqual(80);
      expectValidAsl(definition);
    },
  );

  it('runs one step at a time in a stable topological order without parallel execution', () => {
    const deps = [[], [], [0], [], [2, 1]];
    const { definition, stats } = compile(
      templateOf(deps, { order: [4, 3, 2, 1, 0], parallel_execution: false }),
    );
    const chain: string[] = [];
    for (let name: string | undefined = definition.StartAt; name; ) {
      const state = definition.States[name] as AslState;
      if (state.Type === 'Task') chain.push(name);
      name = state.Next as string | undefined;
    }
    expect(chain).toEqual([sid(3), sid(1), sid(0), sid(2), sid(4)]);
    expect(stats).toMatchObject({ strategy: 'sequential', parallelStates: 0 });
    expectValidAsl(definition);
  });

  it(`nests wide groups so that no Parallel state has more than ${MAX_BRANCHES} branches`, () => {
    const deps = Array.from({ length: 150 }, () => []);
    const { definition, stats } = compile(templateOf(deps));
    const parallels = [...allStates(definition).values()].filter((s) => s.Type === 'Parallel');
    for (const p of parallels) {
      expect((p.Branches as unknown[]).length).toBeLessThanOrEqual(MAX_BRANCHES);
      const merge = (p.ResultSelector as Record<string, string>)['results.$'] as string;
      expect(merge.split('States.JsonMerge').length - 1).toBeLessThanOrEqual(MAX_BRANCHES - 1);
    }
    expect(stats.parallelDepth).toBe(3);
    expect(definitionMakespan(definition, durationsOf(deps.map((_, i) => i + 1)))).toBe(150);
    expectValidAsl(definition);
  });

  it('cuts a graph that is not series-parallel, and says so', () => {
    const { stats } = compile(templateOf([[], [], [0, 1], [1]]));
    expect(stats).toMatchObject({ strategy: 'series-parallel-cuts', cuts: 1 });
  });

  it('lets estimated durations choose the cut', () => {
    const template = templateOf([[], [], [0, 1], [1]]);
    const durations = durationsOf([1, 1, 1, 10]);
    expect(criticalPathMakespan(template, durations)).toBe(11);
    expect(compiledMakespan(template, durations, { estimatedDurations: durations })).toBe(11);
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
    expect(Object.keys(single.definition.States)).toEqual(['only', 'only (failed)', 'only (fail workflow)']);
    expectValidAsl(single.definition);
  });

  it('validates the template it is given', () => {
    expect(() => compile({ ...base, steps: [] })).toThrow('steps: must contain at least one step');
  });
});

describe('compileWorkflow on random DAGs (10-60 steps)', () => {
  it('always emits a definition that asl-validator accepts', () => {
    // asl-validator compiles its JSON schemas on every call (~0.1 s), hence fewer runs here.
    fc.assert(
      fc.property(
        dagCase('any'),
        fc.boolean(),
        fc.constantFrom('standard' as const, 'express' as const),
        fc.nat(),
        ({ deps, order }, parallel, engine, seed) => {
          const template = templateOf(deps, {
            order,
            parallel_execution: parallel,
            engine,
            step: stepOptions(seed),
          });
          expectValidAsl(compile(template).definition);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("routes an Express run's success through 'Record end' once, and each fail-workflow Fail through a report", () => {
    fc.assert(
      fc.property(dagCase('any'), fc.boolean(), fc.nat(), ({ deps, order }, parallel, seed) => {
        const options = stepOptions(seed);
        const template = templateOf(deps, {
          order,
          parallel_execution: parallel,
          engine: 'express',
          step: options,
        });
        const { definition } = compile(template);
        expect(topLevelPath(definition).at(-1)).toBe(RECORD_END_STATE);
        expect(definition.States[RECORD_END_STATE]?.End).toBe(true);
        const maps = stateMaps(definition);
        // Branches end within their Parallel: nothing in them reaches the top level's end record.
        for (const states of maps.slice(1)) {
          for (const state of Object.values(states)) expect(state.Next).not.toBe(RECORD_END_STATE);
        }
        const failing = deps.map((_, i) => sid(i)).filter((_, i) => options(i).on_failure !== 'continue');
        for (const id of failing) {
          const states = maps.find((m) => `${id} (fail workflow)` in m) ?? {};
          expect(states[`${id} (failed)`]?.Next).toBe(`${id} (record end)`);
          expect(states[`${id} (record end)`]).toMatchObject({
            Parameters: { Payload: { end: { status: 'FAILED', stepId: id } } },
            Catch: [{ Next: `${id} (fail workflow)` }],
            Next: `${id} (fail workflow)`,
          });
        }
        const tasks = [...allStates(definition).values()].filter((state) => state.Type === 'Task');
        expect(tasks.filter((state) => !isStepTask(state))).toHaveLength(1 + failing.length);
      }),
      { numRuns: 100 },
    );
  });

  it('runs every step exactly once, after all of its dependencies, under unique short names', () => {
    fc.assert(
      fc.property(dagCase('any'), fc.boolean(), fc.nat(), ({ deps, order }, parallel, seed) => {
        const template = templateOf(deps, { order, parallel_execution: parallel, step: stepOptions(seed) });
        const { definition, stats } = compile(template);
        const { before, occurrences } = structuralPredecessors(definition);
        expect([...occurrences.keys()].sort()).toEqual(deps.map((_, i) => sid(i)).sort());
        for (const count of occurrences.values()) expect(count).toBe(1);
        deps.forEach((ds, j) => {
          for (const d of ds) expect(before.get(sid(j))?.has(sid(d))).toBe(true);
        });
        for (const name of allStates(definition).keys()) expect(name.length).toBeLessThanOrEqual(80);
        expect(stats.taskStates).toBe(deps.length);
      }),
      { numRuns: 150 },
    );
  });

  it('never beats the critical path, and takes the sum of durations when sequential', () => {
    fc.assert(
      fc.property(dagCase('any'), ({ deps, order, durations }) => {
        const times = durationsOf(durations);
        const critical = criticalPathMakespan(templateOf(deps, { order }), times);
        expect(compiledMakespan(templateOf(deps, { order }), times)).toBeGreaterThanOrEqual(critical);
        const sequential = templateOf(deps, { order, parallel_execution: false });
        expect(compiledMakespan(sequential, times)).toBe(durations.reduce((a, b) => a + b, 0));
        expect(compiledMakespan(templateOf(deps, { order, engine: 'express' }), times)).toBe(
          compiledMakespan(templateOf(deps, { order }), times),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('achieves exactly the critical path on series-parallel DAGs', () => {
    fc.assert(
      fc.property(dagCase('series-parallel'), ({ deps, order, durations }) => {
        const template = templateOf(deps, { order });
        const times = durationsOf(durations);
        expect(compile(template).stats.strategy).toBe('series-parallel');
        expect(compiledMakespan(template, times)).toBe(criticalPathMakespan(template, times));
      }),
      { numRuns: 150 },
    );
  });
});
