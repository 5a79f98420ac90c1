/**
 * Executes compiled workflow definitions with aws-local-stepfunctions. Every Task state is
 * answered by a local stand-in for the step handler Lambda that keeps what the real one keeps on
 * the run's control item: how each step ended, and the gates parked until their dependencies end
 * (the state carries the input and the run only). Like the real handler it decides each step with
 * decideStep (resolving references from the kept outputs), runs it (a little sleep, failing on
 * demand), records how it ended and opens the gates that were waiting only for it; it parks or
 * opens gates, records failures and an Express run's end, and holds steps while the run is paused.
 *
 * `.waitForTaskToken` states (Standard gates, callback steps) get a fresh task token in their
 * payload, as the local engine gives them, and complete when the stand-in sends task success or
 * failure for it. The states each run enters are read from the interpreter's event log (a
 * Standard state machine bills each one as a state transition).
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
  type GatePayload,
  isStepTask,
  RECORD_END_STATE,
  type RunEndPayload,
  STEPS_STATE,
  type StepFailurePayload,
  taskStepId,
} from '../../lib/core/workflow/compile.ts';
import { planBranches } from '../../lib/core/workflow/dag.ts';
import { generateAndAnalyze, productLaunchCampaign } from '../../lib/core/workflow/examples.ts';
import type { StepEnd } from '../../lib/core/workflow/run-control.ts';
import { LAMBDA_INVOKE_WAIT_FOR_TOKEN } from '../../lib/core/workflow/step-kinds.ts';
import { decideStep, type StepResult } from '../../lib/core/workflow/step-readiness.ts';
import type { StepPayload } from '../../lib/core/workflow/step-runner.ts';
import {
  stepDag,
  validateTemplate,
  type WorkflowStepInput,
  type WorkflowTemplateInput,
} from '../../lib/core/workflow/template.ts';
import { LocalEngine } from '../../lib/engine/local-engine.ts';
import { randomDag, seeded, sid, templateOf } from '../unit/workflow/support.ts';

type Handlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type Payload = StepPayload | GatePayload | StepFailurePayload | RunEndPayload;

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:vobee-run-step';
const EXECUTION_ID = 'arn:aws:states:us-east-1:123456789012:execution:workflow:test';
const RUN = { id: 'run-1', deadline: '2099-01-01T00:00:00.000Z' };

interface Behaviour {
  /** Attempts that fail before one succeeds (Infinity: every attempt fails). */
  failures?: number;
  /** How long an attempt takes, in ms (for a callback step: until its factory calls back). */
  sleepMs?: number;
  output?: unknown;
  /** Called when the step has succeeded, before the gates waiting for it open. */
  succeeded?: (run: FakeRun) => void;
}

interface Attempt {
  start: number;
  end: number;
  ok: boolean;
}

/** How the handler answers Tasks that are not steps: each call throws the next error, until none is left. */
interface RecordBehaviour {
  end?: Error[];
  failed?: Error[];
}

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

class FactoryError extends Error {
  override name = 'FactoryError';
}

/** The run as the step handler sees it: its control item, its step records, the engine's tokens. */
class FakeRun {
  control: 'running' | 'paused' | 'cancelled' = 'running';
  readonly ended = new Map<string, StepEnd>();
  readonly gates = new Map<string, { token: string; after: string[] }>();
  readonly outputs = new Map<string, unknown>();
  readonly attempts = new Map<string, Attempt[]>();
  readonly received = new Map<string, Record<string, unknown>>();
  readonly payloads = new Map<string, StepPayload>();
  readonly errors = new Map<string, string>();
  readonly failures = new Map<string, { error: string; cause?: string | undefined }>();
  /** Gates called, by step id, in order. */
  readonly gateCalls: string[] = [];
  /** The end records Express runs send (`Record end`). */
  readonly ends: RunEndPayload[] = [];
  /** Run ends recorded by failure records of steps that end the run. */
  readonly runEnds: Array<{ status: string; stepId: string; error: string }> = [];
  readonly #tokens = new Map<string, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextToken = 0;
  #closed = false;
  readonly #behaviours: Record<string, Behaviour>;
  readonly #records: { end: Error[]; failed: Error[] };

  constructor(behaviours: Record<string, Behaviour>, records: RecordBehaviour) {
    this.#behaviours = behaviours;
    this.#records = { end: [...(records.end ?? [])], failed: [...(records.failed ?? [])] };
  }

  /** A `.waitForTaskToken` state: the handler gets a token, and the state waits for it. */
  async waitForToken(payload: Payload): Promise<unknown> {
    const taskToken = `token-${++this.#nextToken}`;
    const settled = new Promise((resolve, reject) => this.#tokens.set(taskToken, { resolve, reject }));
    try {
      await this.handle({ ...payload, taskToken });
    } catch (error) {
      this.#tokens.delete(taskToken);
      throw error;
    }
    return settled;
  }

  sendTaskSuccess(token: string, output: unknown) {
    this.#take(token).resolve(output);
  }

  sendTaskFailure(token: string, error: string, cause: string) {
    this.#take(token).reject(named(error, cause));
  }

  #take(token: string) {
    const pending = this.#tokens.get(token);
    if (!pending) throw named('TaskTimedOut', `token ${token} is not waited for`);
    this.#tokens.delete(token);
    return pending;
  }

  pause() {
    this.control = 'paused';
  }

  cancel() {
    this.control = 'cancelled';
  }

  resume() {
    this.control = 'running';
    this.#openReadyGates();
  }

  /** The run is over: Express gates still waiting stop looking. */
  close() {
    this.#closed = true;
  }

  async handle(payload: Payload): Promise<{ status: string }> {
    if ('end' in payload) {
      this.ends.push(payload);
      const error = this.#records.end.shift();
      if (error) throw error;
      return { status: 'RECORDED' };
    }
    if ('gate' in payload) return this.#gate(payload);
    if ('failed' in payload) return this.#failed(payload);
    return this.#step(payload);
  }

  #ready(after: readonly string[]) {
    return this.control === 'running' && after.every((id) => this.ended.has(id));
  }

  #end(stepId: string, status: StepEnd) {
    this.ended.set(stepId, status);
    this.gates.delete(stepId);
    this.#openReadyGates();
  }

  #openReadyGates() {
    for (const [stepId, gate] of [...this.gates]) {
      if (!this.#ready(gate.after)) continue;
      this.gates.delete(stepId);
      this.sendTaskSuccess(gate.token, { status: 'OPEN' });
    }
  }

  async #gate(payload: GatePayload) {
    const { stepId, after } = payload.gate;
    this.gateCalls.push(stepId);
    if (payload.taskToken !== undefined) {
      this.gates.set(stepId, { token: payload.taskToken, after });
      if (!this.#ready(after)) return { status: 'WAITING' };
      this.gates.delete(stepId);
      this.sendTaskSuccess(payload.taskToken, { status: 'OPEN' });
      return { status: 'OPEN' };
    }
    // Express: no task tokens; the handler looks again until the dependencies have ended.
    while (!this.#ready(after)) {
      if (this.#closed) throw named('RunOver');
      await sleep(5);
    }
    return { status: 'OPEN' };
  }

  async #failed(payload: StepFailurePayload) {
    const error = this.#records.failed.shift();
    if (error) throw error;
    const { stepId, endsRun } = payload.failed;
    this.failures.set(stepId, { error: payload.error, cause: payload.cause });
    const fatal = payload.error === 'WorkflowCancelled' || payload.error === 'WorkflowTimedOut';
    this.ended.set(stepId, 'FAILED');
    if (endsRun || fatal) this.runEnds.push({ status: 'FAILED', stepId, error: payload.error });
    else this.#openReadyGates();
    if (fatal) throw named(payload.error);
    return { status: 'FAILED' };
  }

  async #step(payload: StepPayload) {
    const id = payload.stepId;
    this.payloads.set(id, payload);
    if (this.control === 'paused') throw named('WorkflowPaused');
    if (this.control === 'cancelled') throw named('WorkflowCancelled');
    const results: Record<string, StepResult> = Object.fromEntries(
      [...this.ended].map(([step, status]) => [
        step,
        this.outputs.has(step) ? { status, output: this.outputs.get(step) } : { status },
      ]),
    );
    let decision: ReturnType<typeof decideStep>;
    try {
      decision = decideStep(payload.step, results);
    } catch (caught) {
      this.errors.set(id, (caught as Error).message);
      throw caught;
    }
    if (!decision.run) {
      this.#end(id, 'SKIPPED');
      return { status: 'SKIPPED' };
    }
    this.received.set(id, decision.parameters);
    const behaviour = this.#behaviours[id] ?? {};
    const list = this.attempts.get(id) ?? [];
    this.attempts.set(id, list);
    const start = performance.now();
    const ok = list.length >= (behaviour.failures ?? 0);
    const attempt = { start, end: Number.NaN, ok };
    list.push(attempt);
    const finish = () => {
      attempt.end = performance.now();
      if (!ok) return;
      this.outputs.set(id, behaviour.output ?? defaultOutput(id, payload.input));
      behaviour.succeeded?.(this);
      this.#end(id, 'SUCCEEDED');
    };
    const token = payload.taskToken;
    if (token !== undefined) {
      // A callback step: the factory accepts the task, and calls back when it is done.
      void sleep(behaviour.sleepMs ?? 30).then(() => {
        finish();
        if (ok) this.sendTaskSuccess(token, { status: 'SUCCEEDED' });
        else this.sendTaskFailure(token, 'StepFailed', `${id} failed at attempt ${list.length}`);
      });
      return { status: 'CALLBACK' };
    }
    await sleep(behaviour.sleepMs ?? 30);
    finish();
    if (!ok) throw new FactoryError(`${id} failed at attempt ${list.length}`);
    return { status: 'SUCCEEDED' };
  }
}

/**
 * Compiles and runs a template against a {@link FakeRun}; returns the output (or the error), the
 * run as the handler saw it, and the states entered.
 */
async function execute(
  template: WorkflowTemplateInput,
  behaviours: Record<string, Behaviour> = {},
  input: Record<string, unknown> = { product: 'VoBee' },
  records: RecordBehaviour = {},
) {
  const { definition } = compileWorkflow(template, { runStepFunctionArn: ARN });
  const run = new FakeRun(behaviours, records);
  const tasks = taskStates(definition);
  for (const [name, state] of tasks.filter(([, state]) => isStepTask(state))) {
    expect(taskStepId(state)).toBe(name);
  }
  const handlers: Handlers = Object.fromEntries(
    tasks.map(([name, state]) => {
      const handler = async (event: unknown) => {
        const { FunctionName, Payload } = event as { FunctionName: string; Payload: Payload };
        expect(FunctionName).toBe(ARN);
        expect(Payload).toMatchObject({
          executionId: EXECUTION_ID,
          run: RUN,
          workflowId: template.workflow_id,
        });
        if (state.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN) return run.waitForToken(Payload);
        return { StatusCode: 200, Payload: await run.handle(Payload) };
      };
      // The handler returns JSON; its inferred type is only wider than the library's JSON type.
      return [name, handler as Handlers[string]];
    }),
  );
  const machine = new StateMachine(runnable(definition) as unknown as StateMachineDefinition);
  const execution = machine.run(executionInput(input, RUN) as never, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      // Retry waits (1 s, then 2 s) would dominate the run; the retry logic itself is unchanged.
      retryIntervalOverrides: Object.fromEntries(tasks.map(([name]) => [name, 5])),
    },
    context: { Execution: { Id: EXECUTION_ID } },
  });
  const entered: string[] = [];
  const logged = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') entered.push(event.state.name);
    }
  })();
  let output: unknown;
  let error: unknown;
  const started = performance.now();
  try {
    output = await execution.result;
  } catch (caught) {
    error = caught;
  }
  const elapsedMs = performance.now() - started;
  run.close();
  await logged;
  return { definition, output, error, run, entered, elapsedMs };
}

/**
 * What the local engine changes before the interpreter runs a definition: the interpreter has no
 * `$$.Task.Token`, so the path is taken out of the payloads of `.waitForTaskToken` states (and
 * {@link FakeRun.waitForToken} hands out the tokens); and it times a run with one Node.js timer,
 * which fires at once for a Standard definition's one-year timeout, so that timeout is left out.
 */
function runnable(definition: AslStateMachine): AslStateMachine {
  const { TimeoutSeconds, ...copy } = structuredClone(definition);
  for (const [, state] of taskStates(copy)) {
    const payload = (state.Parameters as { Payload: Record<string, unknown> }).Payload;
    if (state.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN) delete payload['taskToken.$'];
  }
  return TimeoutSeconds !== undefined && TimeoutSeconds <= MAX_TIMER_SECONDS
    ? { ...copy, TimeoutSeconds }
    : copy;
}

/** The longest delay a Node.js timer takes, in seconds. */
const MAX_TIMER_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

/** What a factory returns unless a test says otherwise: enough for the seed workflows' references. */
function defaultOutput(id: string, input: Record<string, unknown>) {
  return { step: id, product: input.product, summary: `summary of ${id}`, images: [`s3://media/${id}.png`] };
}

/** The Task states by name, nested ones included: steps, gates, failure and end records. */
function taskStates(machine: AslStateMachine): Array<[string, AslState]> {
  return Object.entries(machine.States).flatMap(([name, state]): Array<[string, AslState]> => {
    if (state.Type === 'Task') return [[name, state]];
    if (state.Type === 'Parallel') return (state.Branches as AslStateMachine[]).flatMap(taskStates);
    return [];
  });
}

/** The successful attempt of a step. */
function ran(run: FakeRun, id: string): Attempt {
  const ok = run.attempts.get(id)?.find((a) => a.ok);
  if (!ok) throw new Error(`step '${id}' never succeeded`);
  return ok;
}

const statuses = (run: FakeRun) => Object.fromEntries([...run.ended].sort(([a], [b]) => a.localeCompare(b)));

const overlap = (a: Attempt, b: Attempt) => a.start < b.end && b.start < a.end;

const withSteps = (
  template: WorkflowTemplateInput,
  changes: Record<string, Partial<WorkflowStepInput>>,
): WorkflowTemplateInput => ({
  ...template,
  steps: template.steps.map((s) => ({ ...s, ...changes[s.step_id] })),
});

const CAMPAIGN_STEPS = ['discover_trends', 'generate_images', 'generate_video', 'research_market'];
const allSucceeded = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, 'SUCCEEDED']));

// a -> c, b -> c, b -> d: d follows b in its branch, c waits at a gate for a and b.
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

describe('compiled workflows on aws-local-stepfunctions', () => {
  it('runs "generate-and-analyze" to completion, the analysis after the image, leaving the state as it was', async () => {
    const { output, error, run } = await execute(generateAndAnalyze);
    expect(error).toBeUndefined();
    // No Task writes to the state: statuses live on the control item, outputs in the step records.
    expect(output).toEqual({ input: { product: 'VoBee' }, run: RUN });
    expect(statuses(run)).toEqual(allSucceeded(['step1', 'step2']));
    expect(run.outputs.get('step2')).toEqual(defaultOutput('step2', { product: 'VoBee' }));
    expect(ran(run, 'step2').start).toBeGreaterThanOrEqual(ran(run, 'step1').end);
  });

  it('runs "product-launch-campaign": research and trends overlap, and outputs flow through references', async () => {
    const images = ['s3://media/hero.png', 's3://media/detail.png'];
    const { output, error, run } = await execute(productLaunchCampaign, {
      research_market: { output: { summary: 'demand for AI tools grows 30% a year' } },
      discover_trends: { sleepMs: 250 },
      generate_images: { output: { images } },
    });
    expect(error).toBeUndefined();
    expect(output).toEqual({ input: { product: 'VoBee' }, run: RUN });
    expect(statuses(run)).toEqual(allSucceeded(CAMPAIGN_STEPS));
    expect(run.outputs.get('generate_images')).toEqual({ images });

    expect(overlap(ran(run, 'research_market'), ran(run, 'discover_trends'))).toBe(true);
    expect(ran(run, 'generate_images').start).toBeGreaterThanOrEqual(ran(run, 'research_market').end);
    expect(ran(run, 'generate_video').start).toBeGreaterThanOrEqual(ran(run, 'generate_images').end);
    // generate_images needs only research_market: it does not wait for the slower trend discovery.
    expect(ran(run, 'generate_images').start).toBeLessThan(ran(run, 'discover_trends').end);

    expect(run.received.get('generate_images')).toEqual({
      prompts: ['Product hero', 'Product detail'],
      brief: 'Market insight: demand for AI tools grows 30% a year',
    });
    // The whole output of generate_images, which travels by reference when it is large.
    expect(run.received.get('generate_video')).toEqual({
      prompt: 'Product showcase',
      duration: 30,
      images: { images },
    });
    expect(run.payloads.get('generate_video')).toMatchObject({
      executionId: EXECUTION_ID,
      run: RUN,
      workflowId: 'product-launch-campaign',
      stepId: 'generate_video',
      input: { product: 'VoBee' },
    });
  });

  it('enters exactly five states on a successful "product-launch-campaign" run: one Parallel, four Tasks', async () => {
    const { error, entered, run } = await execute(productLaunchCampaign);
    expect(error).toBeUndefined();
    expect(run.ends).toEqual([]);
    expect(run.gateCalls).toEqual([]);
    expect(entered).toHaveLength(5);
    expect([...entered].sort()).toEqual([STEPS_STATE, ...CAMPAIGN_STEPS].sort());
    expect(entered[0]).toBe(STEPS_STATE);
  });

  it('enters only its Task states on a successful sequential or single-step run', async () => {
    const sequential = await execute({ ...productLaunchCampaign, parallel_execution: false });
    expect(sequential.error).toBeUndefined();
    expect(sequential.entered).toHaveLength(4);
    const single = await execute({ ...generateAndAnalyze, steps: generateAndAnalyze.steps.slice(0, 1) });
    expect(single.error).toBeUndefined();
    expect(single.entered).toEqual(['step1']);
    expect(statuses(single.run)).toEqual({ step1: 'SUCCEEDED' });
  });

  it('runs the steps one at a time without parallel execution', async () => {
    const { run } = await execute({ ...productLaunchCampaign, parallel_execution: false });
    expect(statuses(run)).toEqual(allSucceeded(CAMPAIGN_STEPS));
    const all = [...run.attempts.values()].flat().sort((a, b) => a.start - b.start);
    for (let i = 1; i < all.length; i++) {
      expect((all[i] as Attempt).start).toBeGreaterThanOrEqual((all[i - 1] as Attempt).end);
    }
  });

  it('runs the N shape exactly: d right after b, c at its gate once a and b have ended', async () => {
    const { error, entered, run } = await execute(nShape, { a: { sleepMs: 300 }, d: { sleepMs: 300 } });
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual(allSucceeded(['a', 'b', 'c', 'd']));
    expect([...entered].sort()).toEqual([STEPS_STATE, 'a', 'b', 'c', 'c (gate)', 'd'].sort());
    // The gate parked its token while a ran, and the end of a opened it.
    expect(run.gateCalls).toEqual(['c']);
    expect(ran(run, 'd').start).toBeGreaterThanOrEqual(ran(run, 'b').end);
    expect(ran(run, 'd').start).toBeLessThan(ran(run, 'a').end);
    expect(ran(run, 'c').start).toBeGreaterThanOrEqual(ran(run, 'a').end);
    expect(ran(run, 'c').start).toBeGreaterThanOrEqual(ran(run, 'b').end);
  });

  it('retries a step that fails twice and then succeeds', async () => {
    const template = withSteps(productLaunchCampaign, { generate_images: { retries: 2 } });
    const { error, run } = await execute(template, { generate_images: { failures: 2 } });
    expect(error).toBeUndefined();
    expect(run.attempts.get('generate_images')?.map((a) => a.ok)).toEqual([false, false, true]);
    expect(statuses(run)).toEqual(allSucceeded(CAMPAIGN_STEPS));
    expect(run.failures.size).toBe(0);
  });

  it("records a failed on_failure 'continue' step, skips its dependents and succeeds", async () => {
    const template = withSteps(productLaunchCampaign, {
      research_market: { on_failure: 'continue', retries: 1 },
    });
    const { error, run, entered } = await execute(template, { research_market: { failures: Infinity } });
    expect(error).toBeUndefined();
    expect(run.attempts.get('research_market')).toHaveLength(2);
    expect(statuses(run)).toEqual({
      discover_trends: 'SUCCEEDED',
      generate_images: 'SKIPPED',
      generate_video: 'SKIPPED',
      research_market: 'FAILED',
    });
    expect(run.failures.get('research_market')).toEqual({
      error: 'FactoryError',
      cause: expect.stringContaining('research_market failed at attempt 2'),
    });
    expect(run.runEnds).toEqual([]);
    expect(entered).toContain('research_market (failed)');
    expect(entered).not.toContain('research_market (fail workflow)');
    expect(run.attempts.has('generate_images')).toBe(false);
  });

  it('releases a gated step when a dependency it waits for fails and is continued past: it is skipped', async () => {
    const template = withSteps(nShape, { a: { on_failure: 'continue', retries: 0 } });
    const { error, run, entered } = await execute(template, { a: { failures: Infinity, sleepMs: 100 } });
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual({ a: 'FAILED', b: 'SUCCEEDED', c: 'SKIPPED', d: 'SUCCEEDED' });
    expect(entered).toContain('c (gate)');
    expect(run.attempts.has('c')).toBe(false);
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
    const { error, run } = await execute(template, { primary: { failures: Infinity } });
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual({ backup: 'SUCCEEDED', primary: 'FAILED', report: 'SUCCEEDED' });
    expect(run.received.get('report')).toEqual({ source: 'backup' });
  });

  it("fails the execution when an on_failure 'fail' step runs out of retries", async () => {
    const template = withSteps(productLaunchCampaign, { generate_images: { retries: 1 } });
    const { error, run, entered } = await execute(template, { generate_images: { failures: Infinity } });
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain("step 'generate_images' failed");
    expect(((error as Error).cause as Error).name).toBe('FactoryError');
    expect(run.attempts.get('generate_images')).toHaveLength(2);
    expect(run.attempts.has('generate_video')).toBe(false);
    expect(run.runEnds).toEqual([{ status: 'FAILED', stepId: 'generate_images', error: 'FactoryError' }]);
    expect(entered).toEqual(
      expect.arrayContaining(['generate_images (failed)', 'generate_images (fail workflow)']),
    );
  });

  it('fails a step whose reference is missing from its dependency output, naming the path', async () => {
    const template = withSteps(productLaunchCampaign, {
      generate_images: { retries: 0, on_failure: 'continue' },
    });
    const { error, run } = await execute(template, { research_market: { output: { title: 'x' } } });
    expect(error).toBeUndefined();
    expect(run.attempts.has('generate_images')).toBe(false);
    expect(run.ended.get('generate_images')).toBe('FAILED');
    expect(run.failures.get('generate_images')?.error).toBe('ValidationError');
    expect(run.errors.get('generate_images')).toBe(
      "parameters.brief: '{{steps.research_market.output.summary}}': the output of step 'research_market' has no 'summary'",
    );
    expect(run.ended.get('generate_video')).toBe('SKIPPED');
  });

  it('fails a step that exceeds its timeout_seconds like any other failure', async () => {
    const template = withSteps(generateAndAnalyze, {
      step1: { timeout_seconds: 1, retries: 0, on_failure: 'continue' },
    });
    const { error, run } = await execute(template, { step1: { sleepMs: 1_300 } });
    expect(error).toBeUndefined();
    expect(run.failures.get('step1')?.error).toBe('States.Timeout');
    expect(run.ended.get('step1')).toBe('FAILED');
    expect(run.ended.get('step2')).toBe('SKIPPED');
  });

  it('retries the failure record after a fault of Lambda, and still fails for the step', async () => {
    const template = withSteps(generateAndAnalyze, { step1: { retries: 0 } });
    const fault = named('Lambda.ServiceException', 'try again');
    const { error, run, entered } = await execute(template, { step1: { failures: Infinity } }, undefined, {
      failed: [fault],
    });
    expect(error).toBeInstanceOf(ExecutionError);
    expect(((error as Error).cause as Error).name).toBe('FactoryError');
    expect(entered.filter((name) => name === 'step1 (failed)')).toHaveLength(1);
    expect(run.runEnds).toEqual([{ status: 'FAILED', stepId: 'step1', error: 'FactoryError' }]);
  });

  it('holds a step that comes due while the run is paused at its gate, and runs it on resume', async () => {
    let resumedAt = 0;
    const { error, run, entered } = await execute(generateAndAnalyze, {
      step1: {
        succeeded: (r) => {
          r.pause();
          setTimeout(() => {
            resumedAt = performance.now();
            r.resume();
          }, 150);
        },
      },
    });
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual(allSucceeded(['step1', 'step2']));
    // step2 found the run paused, was caught into its gate, and ran once the gate opened.
    expect(entered).toEqual(['step1', 'step2', 'step2 (gate)', 'step2']);
    expect(run.gateCalls).toEqual(['step2']);
    expect(run.attempts.get('step2')).toHaveLength(1);
    expect(ran(run, 'step2').start).toBeGreaterThanOrEqual(resumedAt);
  });

  it('fails the run, whatever on_failure says, when a step finds it cancelled', async () => {
    const template = withSteps(generateAndAnalyze, { step2: { on_failure: 'continue' } });
    const { error, run } = await execute(template, { step1: { succeeded: (r) => r.cancel() } });
    expect(error).toBeInstanceOf(ExecutionError);
    expect(((error as Error).cause as Error).name).toBe('WorkflowCancelled');
    expect(run.runEnds).toEqual([{ status: 'FAILED', stepId: 'step2', error: 'WorkflowCancelled' }]);
    expect(run.attempts.has('step2')).toBe(false);
  });

  it('waits for a callback step until its factory calls back with the task token, and retries one that reports failure', async () => {
    const template = withSteps(productLaunchCampaign, {
      generate_images: { callback: true, retries: 1 },
    });
    const { error, run, entered } = await execute(template, {
      generate_images: { failures: 1, sleepMs: 80 },
    });
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual(allSucceeded(CAMPAIGN_STEPS));
    expect(run.attempts.get('generate_images')?.map((a) => a.ok)).toEqual([false, true]);
    expect(run.payloads.get('generate_images')?.taskToken).toMatch(/^token-/);
    expect(entered.filter((name) => name === 'generate_images')).toHaveLength(1);
    // The video waited for the callback, not for the handler's answer.
    expect(ran(run, 'generate_video').start).toBeGreaterThanOrEqual(ran(run, 'generate_images').end);
  });

  it('opens a gate waiting for a callback step when the callback comes', async () => {
    const template = withSteps(nShape, { b: { callback: true } });
    const { error, run } = await execute(template, { b: { sleepMs: 150 } });
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual(allSucceeded(['a', 'b', 'c', 'd']));
    expect(ran(run, 'c').start).toBeGreaterThanOrEqual(ran(run, 'b').end);
  });

  it('runs a random DAG with every step after all of its dependencies, gated heads through their gates', async () => {
    const deps = randomDag(30, seeded(2024));
    const template = templateOf(deps);
    const { stats } = compileWorkflow(template, { runStepFunctionArn: ARN });
    expect(stats.strategy).toBe('gated-parallel');
    expect(stats.gates).toBeGreaterThan(0);
    const plan = planBranches(stepDag(validateTemplate(template)));
    const sleeps = Object.fromEntries(deps.map((_, i) => [sid(i), { sleepMs: 10 + ((i * 7) % 20) }]));
    const { error, run, entered } = await execute(template, sleeps);
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual(allSucceeded(deps.map((_, i) => sid(i))));
    deps.forEach((ds, j) => {
      expect(run.attempts.get(sid(j))).toHaveLength(1);
      for (const d of ds) expect(ran(run, sid(j)).start).toBeGreaterThanOrEqual(ran(run, sid(d)).end);
    });
    expect([...run.gateCalls].sort()).toEqual([...plan.gated].sort());
    // A Parallel, the steps and the gates entered on the success path: nothing else.
    expect(entered).toHaveLength(1 + deps.length + plan.gated.size);
    const runs = deps.map((_, i) => ran(run, sid(i)));
    expect(runs.some((a, i) => runs.some((b, j) => i < j && overlap(a, b)))).toBe(true);
  });
});

const { timeout: _, ...untimedCampaign } = productLaunchCampaign;
const expressCampaign: WorkflowTemplateInput = { ...untimedCampaign, engine: 'express' };

describe('an express workflow', () => {
  it('reports SUCCEEDED once at its end, after a successful campaign', async () => {
    const { output, error, entered, run } = await execute(expressCampaign);
    expect(error).toBeUndefined();
    expect(run.ends).toEqual([
      {
        executionId: EXECUTION_ID,
        run: RUN,
        workflowId: 'product-launch-campaign',
        end: { status: 'SUCCEEDED' },
      },
    ]);
    expect(statuses(run)).toEqual(allSucceeded(CAMPAIGN_STEPS));
    // The report leaves the output as it was.
    expect(output).toEqual({ input: { product: 'VoBee' }, run: RUN });
    expect(entered).toHaveLength(6);
    expect(entered.at(-1)).toBe(RECORD_END_STATE);
  });

  it('holds a gated head at a gate that waits in the handler, without a task token', async () => {
    const { error, run, entered } = await execute(
      { ...nShape, engine: 'express' },
      { a: { sleepMs: 200 }, d: { sleepMs: 200 } },
    );
    expect(error).toBeUndefined();
    expect(statuses(run)).toEqual(allSucceeded(['a', 'b', 'c', 'd']));
    expect(run.gateCalls).toEqual(['c']);
    expect(entered).toContain('c (gate)');
    expect(entered.at(-1)).toBe(RECORD_END_STATE);
    expect(ran(run, 'd').start).toBeLessThan(ran(run, 'a').end);
    expect(ran(run, 'c').start).toBeGreaterThanOrEqual(ran(run, 'a').end);
  });

  it("records the run's end as FAILED with the step id when an on_failure 'fail' step fails, and fails", async () => {
    const template = withSteps(expressCampaign, { generate_images: { retries: 1 } });
    const { error, run, entered } = await execute(template, { generate_images: { failures: Infinity } });
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain("step 'generate_images' failed");
    expect(((error as Error).cause as Error).name).toBe('FactoryError');
    expect(run.attempts.get('generate_images')).toHaveLength(2);
    expect(run.runEnds).toEqual([{ status: 'FAILED', stepId: 'generate_images', error: 'FactoryError' }]);
    expect(run.ends).toEqual([]);
    expect(entered).toContain('generate_images (failed)');
    expect(entered).not.toContain(RECORD_END_STATE);
  });

  it("retries the success report after a fault of Lambda's", async () => {
    const fault = named('Lambda.TooManyRequestsException', 'rate exceeded');
    const { error, run } = await execute(expressCampaign, {}, undefined, { end: [fault] });
    expect(error).toBeUndefined();
    expect(run.ends.map((e) => e.end)).toEqual([{ status: 'SUCCEEDED' }, { status: 'SUCCEEDED' }]);
    expect(statuses(run)).toEqual(allSucceeded(CAMPAIGN_STEPS));
  });
});

describe('compiled workflows on the local engine', () => {
  it('runs an express workflow that can be described, and keeps its type across versions', async () => {
    const express = compileWorkflow(expressCampaign, { runStepFunctionArn: ARN });
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
    const { executionId } = await engine.start(
      versionArn,
      'run-1',
      executionInput({ product: 'VoBee' }, RUN),
    );
    const done = await engine.waitFor(executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({ input: { product: 'VoBee' }, run: RUN });
    expect((await engine.describe(executionId)).status).toBe('SUCCEEDED');
    expect(ends).toEqual([
      { executionId, run: RUN, workflowId: 'product-launch-campaign', end: { status: 'SUCCEEDED' } },
    ]);

    expect((await engine.deploy('campaign', express.definition, 'v2', { type: 'EXPRESS' })).version).toBe(2);
    await expect(engine.deploy('campaign', express.definition, 'v3')).rejects.toBeInstanceOf(ConflictError);
  });

  it('opens Standard gates through sendTaskSuccess on the tokens it hands out', async () => {
    const { definition, type } = compileWorkflow(nShape, { runStepFunctionArn: ARN });
    const ended = new Set<string>();
    const parked = new Map<string, { token: string; after: string[] }>();
    const order: string[] = [];
    // The handler opens gates on the engine that calls it (both exist before the first call).
    const engine: LocalEngine = new LocalEngine((name) =>
      name === ARN
        ? async (payload) => {
            const p = payload as GatePayload | StepPayload;
            if ('gate' in p) {
              expect(p.taskToken).toMatch(/^local-/);
              parked.set(p.gate.stepId, { token: p.taskToken as string, after: p.gate.after });
              await openReady();
              return { status: 'WAITING' };
            }
            await sleep(p.stepId === 'a' ? 150 : 10);
            order.push(p.stepId);
            ended.add(p.stepId);
            await openReady();
            return { status: 'SUCCEEDED' };
          }
        : undefined,
    );
    const openReady = async () => {
      for (const [id, gate] of [...parked]) {
        if (!gate.after.every((d) => ended.has(d))) continue;
        parked.delete(id);
        await engine.sendTaskSuccess(gate.token, { status: 'OPEN' });
      }
    };
    const { versionArn } = await engine.deploy('n-shape', definition, 'v1', { type });
    const { executionId } = await engine.start(versionArn, 'run-1', executionInput({}, RUN));
    const done = await engine.waitFor(executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(order).toEqual(['b', 'd', 'a', 'c']);
    expect(parked.size).toBe(0);
  });
});
