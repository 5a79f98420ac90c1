/**
 * Exact parallelism on the local runtime: the "N" (a -> c, b -> c, b -> d), the smallest step
 * graph that is not series-parallel, with a and d slow. Every step must start when its own
 * dependencies have ended: d right after b (not after a), c once both a and b have; so the run
 * takes about the critical path (slow + fast), where any plan that cuts the N into series and
 * parallel parts takes at least twice the slow step.
 *
 * Times come from the step records (GET /executions/{id}); the bounds are ratios to the slow
 * duration, generous enough for a loaded two-core machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord } from '../../lib/core/workflow/workflow-records.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { type Api, startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;

/** How long the factory takes for each action, in ms. */
const SLOW_MS = 2_000;
const FAST_MS = 100;
/** The longest wait between two looks of an Express gate at its dependencies (StepRunner). */
const EXPRESS_GATE_POLL_MS = 1_000;

const ended = (b: { status: string }) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(b.status);

/** When a step started and ended, in ms since the epoch. */
function span(steps: StepRecord[], id: string): { start: number; end: number } {
  const step = steps.find((s) => s.stepId === id);
  if (!step?.startedAt || !step.endedAt) throw new Error(`step '${id}' has no start or end`);
  return { start: Date.parse(step.startedAt), end: Date.parse(step.endedAt) };
}

const nShape = (workflowId: string, engine: 'standard' | 'express') => ({
  workflow_id: workflowId,
  name: `N shape (${engine})`,
  engine,
  steps: [
    {
      step_id: 'a',
      name: 'A',
      factory_type: 'timing',
      action: 'slow',
      parameters: { step: 'a' },
      retries: 0,
    },
    {
      step_id: 'b',
      name: 'B',
      factory_type: 'timing',
      action: 'fast',
      parameters: { step: 'b' },
      retries: 0,
    },
    {
      step_id: 'c',
      name: 'C',
      factory_type: 'timing',
      action: 'fast',
      parameters: { step: 'c', from: '{{steps.a.output.step}}+{{steps.b.output.step}}' },
      dependencies: ['a', 'b'],
      retries: 0,
    },
    {
      step_id: 'd',
      name: 'D',
      factory_type: 'timing',
      action: 'slow',
      parameters: { step: 'd', from: '{{steps.b.output.step}}' },
      dependencies: ['b'],
      retries: 0,
    },
  ],
});

async function runToEnd(api: Api, workflowId: string) {
  const started = await api.post(`/workflows/${workflowId}/executions`, {});
  expect(started.status).toBe(202);
  return api.until(`/executions/${started.body.executionId}`, ended, 30_000);
}

describe('exact parallelism on the local runtime', () => {
  let runtime: Runtime;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    runtime = await startTestRuntime();
    const factory = await startFactory((call) => ({
      status: 200,
      body: { status: 'ok', output: { step: call.parameters.step, from: call.parameters.from ?? null } },
      delayMs: call.action === 'slow' ? SLOW_MS : FAST_MS,
    }));
    closers.push(factory.close);
    await runtime.orchestrator.services.register({
      name: 'timing-factory',
      endpoint: factory.endpoint,
      factoryType: 'timing',
      capabilities: ['slow', 'fast'],
    });
  });
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    await runtime.stop(1_000);
  });

  it.each(['standard', 'express'] as const)(
    'starts each step of the N when its own dependencies end, and takes about the critical path (%s)',
    async (engine) => {
      const { api } = runtime;
      // An Express gate has no task token: it looks at the run's control item, at most a second apart.
      const gateLag = engine === 'express' ? EXPRESS_GATE_POLL_MS : 0;
      const workflowId = `n-shape-${engine}`;
      const registered = await api.post('/workflows', nShape(workflowId, engine));
      expect(registered.status).toBe(201);

      const done = await runToEnd(api, workflowId);
      expect(done.status).toBe('SUCCEEDED');
      const steps = done.steps as StepRecord[];
      for (const id of ['a', 'b', 'c', 'd']) {
        expect(steps.find((s) => s.stepId === id)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
      }
      expect(done.results.c).toEqual({ step: 'c', from: 'a+b' });
      expect(done.results.d).toEqual({ step: 'd', from: 'b' });

      const a = span(steps, 'a');
      const b = span(steps, 'b');
      const c = span(steps, 'c');
      const d = span(steps, 'd');
      // The slow steps did take their time (the bounds below are ratios to it).
      expect(a.end - a.start).toBeGreaterThanOrEqual(SLOW_MS * 0.9);
      expect(d.end - d.start).toBeGreaterThanOrEqual(SLOW_MS * 0.9);
      // a and b start together; d follows b at once, well before a ends.
      expect(Math.abs(a.start - b.start)).toBeLessThan(SLOW_MS * 0.25);
      expect(d.start).toBeGreaterThanOrEqual(b.end);
      expect(d.start - b.end).toBeLessThan(SLOW_MS * 0.25);
      expect(d.start).toBeLessThan(a.end - SLOW_MS * 0.5);
      // c waits for both, and starts soon after the later one (a) ends: its gate opens as a ends
      // (Standard), or at the Express gate's next look at the control item.
      expect(c.start).toBeGreaterThanOrEqual(Math.max(a.end, b.end));
      expect(c.start - a.end).toBeLessThan(SLOW_MS * 0.25 + gateLag);

      // The whole run: about the critical path (slow + fast), well under two slow steps in series.
      const first = Math.min(a.start, b.start);
      const last = Math.max(c.end, d.end);
      const criticalPath = SLOW_MS + FAST_MS;
      expect((last - first) / criticalPath).toBeGreaterThanOrEqual(0.9);
      expect((last - first - gateLag) / criticalPath).toBeLessThan(1.4);
      expect(last - first).toBeLessThan(2 * SLOW_MS);
    },
  );
});
