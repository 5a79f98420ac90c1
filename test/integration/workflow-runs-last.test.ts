/**
 * Workflow runs outlive the process and their own faults: history read back unchanged after a
 * restart, runs in progress carried on without calling succeeded steps again, failed runs
 * redriven, and a long pause that does not use up the run's time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecutionView } from '../../lib/core/workflow/workflow-service.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';
import { buildWorkflowStore } from '../../lib/wiring/workflows.ts';
import { type FactoryCall, startFactory } from '../helpers/factory-server.ts';
import { type Api, apiClient } from '../helpers/local-runtime.ts';
import { backends, createServingStack, manualClock } from '../helpers/stack.ts';

const ended = (b: { status: string }) => !['PENDING', 'RUNNING', 'PAUSED'].includes(b.status);
const stepOf = (view: ExecutionView, id: string) => view.steps.find((s) => s.stepId === id);

/** A factory that answers each action at once, counting calls per action. */
async function countingFactory(
  answer: (
    call: FactoryCall,
  ) =>
    | { status: number; body: unknown; delayMs?: number }
    | Promise<{ status: number; body: unknown; delayMs?: number }>,
) {
  const factory = await startFactory((call) => answer(call));
  const count = (action: string) => factory.calls.filter((c) => c.action === action).length;
  return { ...factory, count };
}

describe('runs across restarts of the local runtime', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vobee-runs-'));
  const tablePrefix = `r${Math.random().toString(36).slice(2, 8)}`;
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (): Promise<{ runtime: LocalRuntime; api: Api }> => {
    const runtime = await startLocalRuntime({
      port: 0,
      dbPort: 0,
      dataDir,
      tablePrefix,
      schedules: false,
      retryIntervalMs: 50,
    });
    return { runtime, api: apiClient(runtime.apiUrl) };
  };

  it('keeps finished runs as they were, and carries on paused and waiting runs without calling succeeded steps again', {
    timeout: 120_000,
  }, async () => {
    // `prepare` answers at once; `render` is long-running: it accepts and calls back later.
    const callbacks: string[] = [];
    const factory = await countingFactory((call) => {
      if (call.action === 'render') {
        callbacks.push((call as unknown as { callbackUrl: string }).callbackUrl);
        return { status: 202, body: { status: 'accepted' } };
      }
      return {
        status: 200,
        body: { status: 'ok', output: { action: call.action, n: Math.random() } },
        delayMs: call.action === 'slow_prepare' ? 400 : 0,
      };
    });
    closers.push(factory.close);

    const first = await start();
    let firstStopped = false;
    closers.push(async () => firstStopped || first.runtime.stop(1_000));
    await first.runtime.orchestrator.services.register({
      name: 'studio',
      endpoint: factory.endpoint,
      factoryType: 'studio',
      capabilities: ['prepare', 'slow_prepare', 'render', 'publish'],
    });
    const step = (id: string, action: string, dependencies: string[] = [], extra = {}) => ({
      step_id: id,
      name: id,
      factory_type: 'studio',
      action,
      dependencies,
      ...extra,
    });
    const register = (template: object) => first.api.post('/workflows', template);
    expect(
      (
        await register({
          workflow_id: 'quick',
          name: 'Quick',
          steps: [step('a', 'prepare'), step('b', 'publish', ['a'])],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await register({
          workflow_id: 'waits',
          name: 'Waits for a render',
          steps: [
            step('a', 'prepare'),
            step('render', 'render', ['a'], { callback: true, heartbeat_seconds: 600 }),
            step('c', 'publish', ['render']),
          ],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await register({
          workflow_id: 'held',
          name: 'Held',
          steps: [step('a', 'slow_prepare'), step('b', 'publish', ['a'])],
        })
      ).status,
    ).toBe(201);

    // A run that finished before the restart.
    const quick = await first.api.post('/workflows/quick/executions', {});
    const finished: ExecutionView = await first.api.until(`/executions/${quick.body.executionId}`, ended);
    expect(finished.status).toBe('SUCCEEDED');

    // A run waiting for its render callback, and a run paused after its first step.
    const waiting = await first.api.post('/workflows/waits/executions', {});
    await first.api.until(
      `/executions/${waiting.body.executionId}`,
      (b: ExecutionView) => stepOf(b, 'render')?.status === 'CALLBACK',
    );
    // Paused while its first step runs: that step finishes, the second waits at its gate.
    const paused = await first.api.post('/workflows/held/executions', {});
    await first.api.until(`/executions/${paused.body.executionId}`, (b: ExecutionView) =>
      b.currentSteps.includes('a'),
    );
    expect((await first.api.post(`/executions/${paused.body.executionId}/pause`)).body.status).toBe('PAUSED');
    await first.api.until(
      `/executions/${paused.body.executionId}`,
      (b: ExecutionView) => stepOf(b, 'a')?.status === 'SUCCEEDED',
    );
    expect(factory.count('render')).toBe(1);

    await first.runtime.stop(1_000);
    firstStopped = true;
    const second = await start();
    closers.push(() => second.runtime.stop(1_000));

    // History reads back unchanged.
    expect((await second.api.get(`/executions/${quick.body.executionId}`)).body).toEqual(finished);
    expect((await second.api.get(`/executions/${paused.body.executionId}`)).body.status).toBe('PAUSED');

    // The factory calls back to the same callback token, now on the restarted API.
    const token = new URL(callbacks[0] as string).pathname;
    const answered = await fetch(`${second.runtime.apiUrl}${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'succeeded', output: { video: 'done' } }),
    });
    expect(answered.status).toBe(200);
    const carried: ExecutionView = await second.api.until(`/executions/${waiting.body.executionId}`, ended);
    expect(carried, JSON.stringify(carried)).toMatchObject({ status: 'SUCCEEDED' });
    expect(carried.results.render).toEqual({ video: 'done' });

    expect((await second.api.post(`/executions/${paused.body.executionId}/resume`)).status).toBe(200);
    const resumed: ExecutionView = await second.api.until(`/executions/${paused.body.executionId}`, ended);
    expect(resumed, JSON.stringify(resumed)).toMatchObject({ status: 'SUCCEEDED' });

    // No succeeded step was called again.
    expect(factory.count('render')).toBe(1);
    expect(factory.count('slow_prepare')).toBe(1);
    expect(factory.count('prepare')).toBe(2);
    expect(factory.count('publish')).toBe(3);
  });
});

describe('redrive and long pauses', () => {
  const backend = backends()[0] as ReturnType<typeof backends>[number];
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('redrives a failed run from its failed step, reusing what succeeded', async () => {
    let healthy = false;
    const factory = await countingFactory((call) =>
      call.action === 'publish' && !healthy
        ? { status: 500, body: { error: 'publisher down' } }
        : { status: 200, body: { status: 'ok', output: { action: call.action } } },
    );
    closers.push(factory.close);
    const stack = await createServingStack(backend);
    const { workflows, services } = stack.orchestrator;
    await services.register({
      name: 'studio',
      endpoint: factory.endpoint,
      factoryType: 'studio',
      capabilities: ['prepare', 'publish'],
    });
    await workflows.register({
      workflow_id: 'publishing',
      name: 'Publishing',
      max_retries: 0,
      steps: [
        { step_id: 'a', name: 'a', factory_type: 'studio', action: 'prepare' },
        { step_id: 'b', name: 'b', factory_type: 'studio', action: 'prepare' },
        {
          step_id: 'publish',
          name: 'publish',
          factory_type: 'studio',
          action: 'publish',
          dependencies: ['a', 'b'],
        },
      ],
    });
    const started = await workflows.start('publishing', {});
    const id = started.execution.executionId;
    await stack.engine.settle(20_000);
    const failed = await workflows.describe(id);
    expect(failed.status).toBe('FAILED');
    expect(stepOf(failed, 'publish')?.status).toBe('FAILED');
    healthy = true;
    await expect(workflows.redrive(id)).resolves.toMatchObject({ executionId: id });
    await stack.engine.settle(20_000);
    const redriven = await workflows.describe(id);
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.results).toEqual({
      a: { action: 'prepare' },
      b: { action: 'prepare' },
      publish: { action: 'publish' },
    });
    expect(factory.count('prepare')).toBe(2);
    expect(factory.count('publish')).toBe(2);
    await expect(workflows.redrive(id)).rejects.toThrow(/it is SUCCEEDED/);
  });

  it('refuses to redrive a run that has not failed, and an unknown run', async () => {
    const stack = await createServingStack(backend);
    await expect(stack.orchestrator.workflows.redrive('no-such-run')).rejects.toThrow(/not found/);
  });

  it('resumes a run paused for an hour: the pause does not use up its time, and time spent running does', async () => {
    const clock = manualClock();
    const factory = await countingFactory((call) => ({
      status: 200,
      body: { status: 'ok', output: { action: call.action } },
    }));
    closers.push(factory.close);
    const stack = await createServingStack(backend, { now: clock.now });
    const { workflows } = stack.orchestrator;
    await stack.orchestrator.services.register({
      name: 'studio',
      endpoint: factory.endpoint,
      factoryType: 'studio',
      capabilities: ['prepare', 'publish'],
    });
    await workflows.register({
      workflow_id: 'one-minute',
      name: 'One minute',
      timeout: 60,
      steps: [
        { step_id: 'a', name: 'a', factory_type: 'studio', action: 'prepare' },
        { step_id: 'b', name: 'b', factory_type: 'studio', action: 'publish', dependencies: ['a'] },
      ],
    });

    // Paused at once (its first step may have started): the steps after wait at their gates, with
    // nothing running or billed.
    const run = await workflows.start('one-minute', {});
    const id = run.execution.executionId;
    await workflows.pause(id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const callsWhilePaused = factory.calls.length;
    expect(callsWhilePaused).toBeLessThanOrEqual(1);
    clock.advance(3_600_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(factory.calls).toHaveLength(callsWhilePaused);
    expect((await workflows.describe(id)).status).toBe('PAUSED');
    await workflows.resume(id);
    await stack.engine.settle(20_000);
    const resumed = await workflows.describe(id);
    expect(resumed, JSON.stringify(resumed)).toMatchObject({ status: 'SUCCEEDED' });
    expect(factory.calls).toHaveLength(2);

    // A minute spent running (not paused) is the run's whole time: its next step does not start.
    const overdue = await workflows.start('one-minute', {});
    clock.advance(61_000);
    await stack.engine.settle(20_000);
    const timedOut = await workflows.describe(overdue.execution.executionId);
    expect(timedOut.status).toBe('TIMED_OUT');
    expect(timedOut.error?.error).toBe('WorkflowTimedOut');
  });

  it('changes a paused run: adds a step, replaces the parameters of one not started, skips another, and keeps who did it', async () => {
    // `prepare` answers once the test lets it, so the run is changed while it runs, then after.
    let letPrepareAnswer = () => {};
    const prepareMayAnswer = new Promise<void>((resolve) => {
      letPrepareAnswer = resolve;
    });
    const factory = await countingFactory(async (call) => {
      if (call.action === 'prepare') await prepareMayAnswer;
      return {
        status: 200,
        body: { status: 'ok', output: { action: call.action, tone: call.parameters.tone ?? null } },
      };
    });
    closers.push(factory.close);
    const stack = await createServingStack(backend);
    const { workflows } = stack.orchestrator;
    await stack.orchestrator.services.register({
      name: 'studio',
      endpoint: factory.endpoint,
      factoryType: 'studio',
      capabilities: ['prepare', 'write', 'publish'],
    });
    const step = (id: string, action: string, dependencies: string[] = [], parameters = {}) => ({
      step_id: id,
      name: id,
      factory_type: 'studio',
      action,
      dependencies,
      parameters,
    });
    await workflows.register({
      workflow_id: 'copy',
      name: 'Copy',
      steps: [
        step('a', 'prepare'),
        step('b', 'write', ['a'], { tone: 'plain' }),
        step('c', 'publish', ['b']),
      ],
    });
    const run = await workflows.start('copy', {});
    const id = run.execution.executionId;
    for (let i = 0; i < 500 && stepOf(await workflows.describe(id), 'a')?.status !== 'RUNNING'; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await workflows.pause(id);
    // Only a paused run with no step running can change: `a` is still running.
    await expect(workflows.change(id, { changedBy: 'ana', skipSteps: ['c'] })).rejects.toThrow(
      /while 'a' runs/,
    );
    letPrepareAnswer();
    for (let i = 0; i < 500 && stepOf(await workflows.describe(id), 'a')?.status !== 'SUCCEEDED'; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));

    // What cannot be: touching a step that has started, a cycle, an unknown factory.
    await expect(
      workflows.change(id, { changedBy: 'ana', replaceParameters: { a: { tone: 'loud' } } }),
    ).rejects.toThrow(/cannot change step 'a': already started/);
    await expect(
      workflows.change(id, { changedBy: 'ana', addSteps: [step('x', 'write', ['x'])] }),
    ).rejects.toThrow(/cannot depend on itself/);
    await expect(workflows.change(id, { changedBy: 'ana' })).rejects.toThrow(/at least one step/);

    const changed = await workflows.change(id, {
      changedBy: 'ana',
      reason: 'warmer copy, publish later',
      replaceParameters: { b: { tone: 'warm' } },
      skipSteps: ['c'],
      addSteps: [step('review', 'publish', ['b'], { tone: 'review' })],
    });
    expect(changed.status).toBe('PAUSED');
    expect(changed.changes).toEqual([
      expect.objectContaining({
        changedBy: 'ana',
        reason: 'warmer copy, publish later',
        added: ['review'],
        replaced: ['b'],
        skipped: ['c'],
        version: 1,
      }),
    ]);
    await workflows.resume(id);
    await stack.engine.settle(20_000);
    const done = await workflows.describe(id);
    expect(done.status, JSON.stringify(done)).toBe('SUCCEEDED');
    expect(done.results).toEqual({
      a: { action: 'prepare', tone: null },
      b: { action: 'write', tone: 'warm' },
      review: { action: 'publish', tone: 'review' },
    });
    expect(stepOf(done, 'c')).toMatchObject({ status: 'SKIPPED', error: 'skipped by a change from ana' });
    expect(factory.count('prepare')).toBe(1);
    expect(factory.count('publish')).toBe(1);
  });
});

describe('starting a step while the run is resumed', () => {
  it('starts it, when the pause that refused it is lifted before the refusal is read', async () => {
    const stack = await createServingStack(backends()[0] as ReturnType<typeof backends>[number]);
    const store = buildWorkflowStore(stack);
    const at = new Date().toISOString();
    await store.putExecutionIfAbsent({
      executionName: 'flip',
      workflowId: 'copy',
      version: 1,
      control: 'running',
      input: {},
      requestHash: 'h',
      createdAt: at,
      updatedAt: at,
    });
    await store.setControl('flip', ['running'], 'paused', new Date());
    // The first refused write is followed, before it is read, by a resume.
    let resumed = false;
    const doc = {
      send: async (command: Parameters<typeof stack.doc.send>[0]) => {
        try {
          return await stack.doc.send(command);
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException' && !resumed) {
            resumed = true;
            await store.setControl('flip', ['paused'], 'running', new Date());
          }
          throw error;
        }
      },
    } as typeof stack.doc;
    const start = await buildWorkflowStore({ doc, tables: stack.tables }).startStep('flip', 'b', {
      startedAt: at,
    });
    expect(resumed).toBe(true);
    expect(start).toMatchObject({ started: true, attempts: 1 });
  });
});
