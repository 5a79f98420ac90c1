/**
 * Executes compiled workflow definitions with aws-local-stepfunctions. Every step's Task state is
 * overridden by a local function standing in for the step handler Lambda: it keeps each step's
 * output aside (as the step records do; the state carries statuses only), decides with decideStep
 * (resolving references from the kept outputs), sleeps a little, records when it ran, and can
 * fail on demand.
 * The states each run enters are read from the interpreter's event log (a Standard state machine
 * bills each one as a state transition). An Express run's end records reach the same function,
 * which tells them apart by their payload, as the Lambda does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import {
  type AslState,
  type AslStateMachine,
  compileWorkflow,
  executionInput,
  isStepTask,
  RECORD_END_STATE,
  type RunEndPayload,
  taskStepId,
} from '../../lib/core/workflow/compile.ts';
import { generateAndAnalyze, productLaunchCampaign } from '../../lib/core/workflow/examples.ts';
import { decideStep, type StepResult } from '../../lib/core/workflow/step-readiness.ts';
import type {
  WorkflowStep,
  WorkflowStepInput,
  WorkflowTemplateInput,
} from '../../lib/core/workflow/template.ts';
import { LocalEngine } from '../../lib/engine/local-engine.ts';
import { randomDag, seeded, sid, templateOf } from '../unit/workflow/support.ts';

type Handlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:vobee-run-step';
const EXECUTION_ID = 'arn:aws:states:us-east-1:123456789012:execution:workflow:test';

interface StepPayload {
  executionId: string;
  workflowId: string;
  stepId: string;
  step: WorkflowStep;
  input: Record<string, unknown>;
  results: Record<string, StepResult>;
}

interface Behaviour {
  /** Attempts that throw before one succeeds (Infinity: every attempt throws). */
  failures?: number;
  /** How long an attempt takes, in ms. */
  sleepMs?: number;
  output?: unknown;
}

interface Attempt {
  start: number;
  end: number;
  ok: boolean;
}

class FactoryError extends Error {
  override name = 'FactoryError';
}

interface WorkflowState {
  input: Record<string, unknown>;
  results: Record<string, StepResult>;
}

/** How the end records of an Express run fare: each attempt throws the next error, until none is left. */
interface EndBehaviour {
  errors?: Error[];
}

/**
 * Compiles and runs a template; returns the output (or the error), every attempt, what each step
 * received, and the end records (with every attempt at one).
 */
async function execute(
  template: WorkflowTemplateInput,
  behaviours: Record<string, Behaviour> = {},
  input: Record<string, unknown> = { product: 'VoBee' },
  endBehaviour: EndBehaviour = {},
) {
  const { definition } = compileWorkflow(template, { runStepFunctionArn: ARN });
  const attempts = new Map<string, Attempt[]>();
  const received = new Map<string, Record<string, unknown>>();
  const payloads = new Map<string, StepPayload>();
  const outputs = new Map<string, unknown>();
  const errors = new Map<string, string>();
  const ends: RunEndPayload[] = [];
  const endErrors = [...(endBehaviour.errors ?? [])];

  const handler = async (event: unknown) => {
    const { FunctionName, Payload } = event as {
      FunctionName: string;
      Payload: StepPayload | RunEndPayload;
    };
    expect(FunctionName).toBe(ARN);
    if ('end' in Payload) {
      ends.push(Payload);
      const error = endErrors.shift();
      if (error) throw error;
      return { StatusCode: 200, Payload: null };
    }
    const id = Payload.stepId;
    payloads.set(id, Payload);
    const results = Object.fromEntries(
      Object.entries(Payload.results).map(([step, result]) => [
        step,
        outputs.has(step) ? { ...result, output: outputs.get(step) } : result,
      ]),
    );
    let decision: ReturnType<typeof decideStep>;
    try {
      decision = decideStep(Payload.step, results);
    } catch (caught) {
      errors.set(id, (caught as Error).message);
      throw caught;
    }
    if (!decision.run) return { StatusCode: 200, Payload: { status: decision.status } };
    received.set(id, decision.parameters);
    const behaviour = behaviours[id] ?? {};
    const list = attempts.get(id) ?? [];
    attempts.set(id, list);
    const start = performance.now();
    await sleep(behaviour.sleepMs ?? 30);
    const ok = list.length >= (behaviour.failures ?? 0);
    list.push({ start, end: performance.now(), ok });
    if (!ok) throw new FactoryError(`${id} failed at attempt ${list.length}`);
    outputs.set(id, behaviour.output ?? defaultOutput(id, Payload.input));
    return { StatusCode: 200, Payload: { status: 'SUCCEEDED' } };
  };

  const tasks = taskStates(definition);
  for (const [name, state] of tasks.filter(([, state]) => isStepTask(state))) {
    expect(taskStepId(state)).toBe(name);
  }
  const taskNames = tasks.map(([name]) => name);
  // The handler returns JSON; its inferred type is only wider than the library's JSON type.
  const handlers: Handlers = Object.fromEntries(taskNames.map((name) => [name, handler as Handlers[string]]));
  const machine = new StateMachine(definition as unknown as StateMachineDefinition);
  const execution = machine.run(executionInput(input) as never, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      // Retry waits (1 s, then 2 s) would dominate the run; the retry logic itself is unchanged.
      retryIntervalOverrides: Object.fromEntries(taskNames.map((name) => [name, 5])),
    },
    context: { Execution: { Id: EXECUTION_ID } },
  });
  const entered: string[] = [];
  const logged = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') entered.push(event.state.name);
    }
  })();
  let output: WorkflowState | undefined;
  let error: unknown;
  try {
    output = (await execution.result) as unknown as WorkflowState;
  } catch (caught) {
    error = caught;
  }
  await logged;
  return { definition, output, error, attempts, received, payloads, outputs, errors, entered, ends };
}

/** What a factory returns unless a test says otherwise: enough for the seed workflows' references. */
function defaultOutput(id: string, input: Record<string, unknown>) {
  return { step: id, product: input.product, summary: `summary of ${id}`, images: [`s3://media/${id}.png`] };
}

/** The Task states by name, nested ones included: the steps' and an Express run's end records. */
function taskStates(machine: AslStateMachine): Array<[string, AslState]> {
  return Object.entries(machine.States).flatMap(([name, state]): Array<[string, AslState]> => {
    if (state.Type === 'Task') return [[name, state]];
    if (state.Type === 'Parallel') return (state.Branches as AslStateMachine[]).flatMap(taskStates);
    return [];
  });
}

/** The successful attempt of a step. */
function ran(attempts: Map<string, Attempt[]>, id: string): Attempt {
  const ok = attempts.get(id)?.find((a) => a.ok);
  if (!ok) throw new Error(`step '${id}' never succeeded`);
  return ok;
}

const overlap = (a: Attempt, b: Attempt) => a.start < b.end && b.start < a.end;

const withSteps = (
  template: WorkflowTemplateInput,
  changes: Record<string, Partial<WorkflowStepInput>>,
): WorkflowTemplateInput => ({
  ...template,
  steps: template.steps.map((s) => ({ ...s, ...changes[s.step_id] })),
});

describe('compiled workflows on aws-local-stepfunctions', () => {
  it('runs "generate-and-analyze" to completion, the analysis after the image', async () => {
    const { output, error, attempts, outputs } = await execute(generateAndAnalyze);
    expect(error).toBeUndefined();
    // The state carries statuses only, whatever the steps return.
    expect(output).toEqual({
      input: { product: 'VoBee' },
      results: { step1: { status: 'SUCCEEDED' }, step2: { status: 'SUCCEEDED' } },
    });
    expect(outputs.get('step2')).toEqual(defaultOutput('step2', { product: 'VoBee' }));
    expect(ran(attempts, 'step2').start).toBeGreaterThanOrEqual(ran(attempts, 'step1').end);
  });

  it('runs "product-launch-campaign": research and trends overlap, and outputs flow through references', async () => {
    const images = ['s3://media/hero.png', 's3://media/detail.png'];
    const { output, error, attempts, received, payloads, outputs } = await execute(productLaunchCampaign, {
      research_market: { output: { summary: 'demand for AI tools grows 30% a year' } },
      discover_trends: { sleepMs: 250 },
      generate_images: { output: { images } },
    });
    expect(error).toBeUndefined();
    const results = output?.results ?? {};
    expect(Object.keys(results).sort()).toEqual([
      'discover_trends',
      'generate_images',
      'generate_video',
      'research_market',
    ]);
    for (const result of Object.values(results)) expect(result.status).toBe('SUCCEEDED');
    expect(results.generate_images).toEqual({ status: 'SUCCEEDED' });
    expect(outputs.get('generate_images')).toEqual({ images });

    expect(overlap(ran(attempts, 'research_market'), ran(attempts, 'discover_trends'))).toBe(true);
    expect(ran(attempts, 'generate_images').start).toBeGreaterThanOrEqual(
      ran(attempts, 'research_market').end,
    );
    expect(ran(attempts, 'generate_video').start).toBeGreaterThanOrEqual(
      ran(attempts, 'generate_images').end,
    );
    // generate_images needs only research_market: it does not wait for the slower trend discovery.
    expect(ran(attempts, 'generate_images').start).toBeLessThan(ran(attempts, 'discover_trends').end);

    expect(received.get('generate_images')).toEqual({
      prompts: ['Product hero', 'Product detail'],
      brief: 'Market insight: demand for AI tools grows 30% a year',
    });
    // The whole output of generate_images, which travels by reference when it is large.
    expect(received.get('generate_video')).toEqual({
      prompt: 'Product showcase',
      duration: 30,
      images: { images },
    });
    expect(payloads.get('generate_video')).toMatchObject({
      executionId: EXECUTION_ID,
      workflowId: 'product-launch-campaign',
      input: { product: 'VoBee' },
    });
  });

  it('enters exactly five states on a successful "product-launch-campaign" run: one Parallel, four Tasks', async () => {
    const { error, entered, ends } = await execute(productLaunchCampaign);
    expect(error).toBeUndefined();
    expect(ends).toEqual([]);
    expect(entered).toHaveLength(5);
    expect([...entered].sort()).toEqual(
      ['Parallel 1', 'discover_trends', 'generate_images', 'generate_video', 'research_market'].sort(),
    );
    expect(entered[0]).toBe('Parallel 1');
  });

  it('enters only its Task states on a successful sequential or single-step run', async () => {
    const sequential = await execute({ ...productLaunchCampaign, parallel_execution: false });
    expect(sequential.error).toBeUndefined();
    expect(sequential.entered).toHaveLength(4);
    const single = await execute({ ...generateAndAnalyze, steps: generateAndAnalyze.steps.slice(0, 1) });
    expect(single.error).toBeUndefined();
    expect(single.entered).toEqual(['step1']);
    expect(single.output).toEqual({
      input: { product: 'VoBee' },
      results: { step1: { status: 'SUCCEEDED' } },
    });
  });

  it('runs the steps one at a time without parallel execution', async () => {
    const { output, attempts } = await execute({ ...productLaunchCampaign, parallel_execution: false });
    expect(Object.values(output?.results ?? {}).map((r) => r.status)).toEqual(Array(4).fill('SUCCEEDED'));
    const all = [...attempts.values()].flat().sort((a, b) => a.start - b.start);
    for (let i = 1; i < all.length; i++) {
      expect((all[i] as Attempt).start).toBeGreaterThanOrEqual((all[i - 1] as Attempt).end);
    }
  });

  it('retries a step that fails twice and then succeeds', async () => {
    const template = withSteps(productLaunchCampaign, { generate_images: { retries: 2 } });
    const { output, error, attempts } = await execute(template, { generate_images: { failures: 2 } });
    expect(error).toBeUndefined();
    expect(attempts.get('generate_images')?.map((a) => a.ok)).toEqual([false, false, true]);
    expect(output?.results.generate_images?.status).toBe('SUCCEEDED');
    expect(output?.results.generate_video?.status).toBe('SUCCEEDED');
  });

  it("records a failed on_failure 'continue' step, skips its dependents and succeeds", async () => {
    const template = withSteps(productLaunchCampaign, {
      research_market: { on_failure: 'continue', retries: 1 },
    });
    const { output, error, attempts } = await execute(template, { research_market: { failures: Infinity } });
    expect(error).toBeUndefined();
    expect(attempts.get('research_market')).toHaveLength(2);
    expect(output?.results).toEqual({
      research_market: { status: 'FAILED', error: 'FactoryError' },
      discover_trends: { status: 'SUCCEEDED' },
      generate_images: { status: 'SKIPPED' },
      generate_video: { status: 'SKIPPED' },
    });
    expect(attempts.has('generate_images')).toBe(false);
  });

  it('runs a step with an any_of group when one member succeeded and the other failed', async () => {
    const template: WorkflowTemplateInput = {
      workflow_id: 'any-of',
      name: 'Any of',
      steps: [
        {
          step_id: 'primary',
          name: 'P',
          factory_type: 'research',
          action: 'a',
          on_failure: 'continue',
          retries: 0,
        },
        { step_id: 'backup', name: 'B', factory_type: 'research', action: 'a' },
        {
          step_id: 'report',
          name: 'R',
          factory_type: 'research',
          action: 'b',
          any_of: [['primary', 'backup']],
          parameters: { source: '{{steps.backup.output.step}}' },
        },
      ],
    };
    const { output, error, received } = await execute(template, { primary: { failures: Infinity } });
    expect(error).toBeUndefined();
    expect(output?.results.primary?.status).toBe('FAILED');
    expect(output?.results.report?.status).toBe('SUCCEEDED');
    expect(received.get('report')).toEqual({ source: 'backup' });
  });

  it("fails the execution when an on_failure 'fail' step runs out of retries", async () => {
    const template = withSteps(productLaunchCampaign, { generate_images: { retries: 1 } });
    const { error, attempts } = await execute(template, { generate_images: { failures: Infinity } });
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain("step 'generate_images' failed");
    expect(((error as Error).cause as Error).name).toBe('FactoryError');
    expect(attempts.get('generate_images')).toHaveLength(2);
    expect(attempts.has('generate_video')).toBe(false);
  });

  it('fails a step whose reference is missing from its dependency output, naming the path', async () => {
    const template = withSteps(productLaunchCampaign, {
      generate_images: { retries: 0, on_failure: 'continue' },
    });
    const { output, error, attempts, errors } = await execute(template, {
      research_market: { output: { title: 'x' } },
    });
    expect(error).toBeUndefined();
    expect(attempts.has('generate_images')).toBe(false);
    expect(output?.results.generate_images).toEqual({ status: 'FAILED', error: 'ValidationError' });
    expect(errors.get('generate_images')).toBe(
      "parameters.brief: '{{steps.research_market.output.summary}}': the output of step 'research_market' has no 'summary'",
    );
    expect(output?.results.generate_video?.status).toBe('SKIPPED');
  });

  it('fails a step that exceeds its timeout_seconds like any other failure', async () => {
    const template = withSteps(generateAndAnalyze, {
      step1: { timeout_seconds: 1, retries: 0, on_failure: 'continue' },
    });
    const { output, error } = await execute(template, { step1: { sleepMs: 1_300 } });
    expect(error).toBeUndefined();
    expect(output?.results.step1).toEqual({ status: 'FAILED', error: 'States.Timeout' });
    expect(output?.results.step2).toEqual({ status: 'SKIPPED' });
  });

  it('runs a random DAG that is not series-parallel with every step after all of its dependencies', async () => {
    const deps = randomDag(30, seeded(2024));
    const template = templateOf(deps);
    const { stats } = compileWorkflow(template, { runStepFunctionArn: ARN });
    expect(stats.strategy).toBe('series-parallel-cuts');
    const sleeps = Object.fromEntries(deps.map((_, i) => [sid(i), { sleepMs: 10 + ((i * 7) % 20) }]));
    const { output, error, attempts } = await execute(template, sleeps);
    expect(error).toBeUndefined();
    expect(Object.keys(output?.results ?? {}).sort()).toEqual(deps.map((_, i) => sid(i)).sort());
    for (const result of Object.values(output?.results ?? {})) expect(result.status).toBe('SUCCEEDED');
    deps.forEach((ds, j) => {
      expect(attempts.get(sid(j))).toHaveLength(1);
      for (const d of ds)
        expect(ran(attempts, sid(j)).start).toBeGreaterThanOrEqual(ran(attempts, sid(d)).end);
    });
    // Parallelism survives the cuts: some independent steps did run at the same time.
    const runs = deps.map((_, i) => ran(attempts, sid(i)));
    expect(runs.some((a, i) => runs.some((b, j) => i < j && overlap(a, b)))).toBe(true);
  });
});

const { timeout: _, ...untimedCampaign } = productLaunchCampaign;
const expressCampaign: WorkflowTemplateInput = { ...untimedCampaign, engine: 'express' };
const CAMPAIGN_STEPS = ['discover_trends', 'generate_images', 'generate_video', 'research_market'];

describe('an express workflow reports the end of its run', () => {
  it("reports SUCCEEDED once, with the four steps' results, after a successful campaign", async () => {
    const { output, error, entered, ends } = await execute(expressCampaign);
    expect(error).toBeUndefined();
    expect(ends).toEqual([
      {
        executionId: EXECUTION_ID,
        workflowId: 'product-launch-campaign',
        end: { status: 'SUCCEEDED' },
        results: output?.results,
      },
    ]);
    expect(Object.keys(ends[0]?.results ?? {}).sort()).toEqual(CAMPAIGN_STEPS);
    for (const result of Object.values(ends[0]?.results ?? {})) expect(result.status).toBe('SUCCEEDED');
    // The report leaves the output as it was.
    expect(Object.keys(output ?? {})).toEqual(['input', 'results']);
    expect(entered).toHaveLength(6);
    expect(entered.at(-1)).toBe(RECORD_END_STATE);
  });

  it("reports FAILED with the step id when an on_failure 'fail' step in a Parallel branch fails, and fails", async () => {
    const template = withSteps(expressCampaign, { generate_images: { retries: 1 } });
    const { error, attempts, entered, ends } = await execute(template, {
      generate_images: { failures: Infinity },
    });
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain("step 'generate_images' failed");
    expect(((error as Error).cause as Error).name).toBe('FactoryError');
    expect(attempts.get('generate_images')).toHaveLength(2);
    expect(ends).toEqual([
      {
        executionId: EXECUTION_ID,
        workflowId: 'product-launch-campaign',
        end: { status: 'FAILED', stepId: 'generate_images' },
        results: expect.objectContaining({
          research_market: { status: 'SUCCEEDED' },
          generate_images: { status: 'FAILED', error: 'FactoryError' },
        }),
      },
    ]);
    expect(entered).toContain('generate_images (record end)');
    expect(entered).not.toContain(RECORD_END_STATE);
  });

  it("fails for the step's error even when reporting the failure fails", async () => {
    const template = withSteps(
      { ...generateAndAnalyze, engine: 'express', timeout: 300 },
      { step1: { retries: 0 } },
    );
    const reportError = Object.assign(new Error('the store is down'), { name: 'StoreError' });
    const { error, ends } = await execute(template, { step1: { failures: Infinity } }, undefined, {
      errors: [reportError],
    });
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain("step 'step1' failed");
    expect(((error as Error).cause as Error).name).toBe('FactoryError');
    // Only Lambda's own faults are retried: the report was tried once.
    expect(ends.map((e) => e.end)).toEqual([{ status: 'FAILED', stepId: 'step1' }]);
  });

  it("retries the success report after a fault of Lambda's", async () => {
    const fault = Object.assign(new Error('rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
    const { output, error, ends } = await execute(expressCampaign, {}, undefined, { errors: [fault] });
    expect(error).toBeUndefined();
    expect(ends.map((e) => e.end)).toEqual([{ status: 'SUCCEEDED' }, { status: 'SUCCEEDED' }]);
    expect(Object.keys(output?.results ?? {}).sort()).toEqual(CAMPAIGN_STEPS);
  });
});

describe('an express workflow on the local engine', () => {
  const express = compileWorkflow(expressCampaign, { runStepFunctionArn: ARN });

  it('runs and can be described, and keeps its type across versions', async () => {
    const ends: RunEndPayload[] = [];
    const engine = new LocalEngine((name) =>
      name === ARN
        ? async (payload) => {
            if (typeof payload === 'object' && payload !== null && 'end' in payload) {
              ends.push(payload as RunEndPayload);
              return null;
            }
            return { status: 'SUCCEEDED' };
          }
        : undefined,
    );
    const { stateMachineArn, versionArn } = await engine.deploy('campaign', express.definition, 'v1', {
      type: express.type,
    });
    expect(engine.typeOf(stateMachineArn)).toBe('EXPRESS');
    const { executionId } = await engine.start(versionArn, 'run-1', executionInput({ product: 'VoBee' }));
    const done = await engine.waitFor(executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(Object.keys((done.output as WorkflowState).results)).toHaveLength(4);
    expect((await engine.describe(executionId)).status).toBe('SUCCEEDED');
    expect(ends).toEqual([
      {
        executionId,
        workflowId: 'product-launch-campaign',
        end: { status: 'SUCCEEDED' },
        results: (done.output as WorkflowState).results,
      },
    ]);

    expect((await engine.deploy('campaign', express.definition, 'v2', { type: 'EXPRESS' })).version).toBe(2);
    await expect(engine.deploy('campaign', express.definition, 'v3')).rejects.toBeInstanceOf(ConflictError);
  });
});
