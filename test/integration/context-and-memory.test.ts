import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactory } from '../helpers/factory-server.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;

/** A task's context reaches its factory, and what memory knows is readable through the API. */
describe('context and memory through the API', () => {
  let runtime: Runtime;
  let factory: Awaited<ReturnType<typeof startFactory>>;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    factory = await startFactory((call) => ({
      status: 200,
      body: { status: 'succeeded', output: { wrote: call.parameters.topic }, cost: 0.004 },
    }));
    await runtime.api.post('/services', {
      name: 'writer',
      endpoint: factory.endpoint,
      capabilities: ['draft_email'],
      costPerCall: 0.01,
    });
  }, 60_000);

  afterAll(async () => {
    await factory?.close();
    await runtime?.stop(1_000);
  });

  it('sends the task its context id and data, and keeps the cost the factory reports', async () => {
    const context = await runtime.api.post('/contexts', {
      id: 'campaign-7',
      data: { brand: 'Acme', tone: 'warm' },
    });
    expect(context.status).toBe(201);
    await runtime.api.post('/tasks', {
      id: 'ctx-task',
      type: 'draft_email',
      contextId: 'campaign-7',
      parameters: { topic: 'launch' },
    });
    const task = await runtime.api.until('/tasks/ctx-task', (t) => t.status === 'SUCCEEDED');
    const call = factory.calls.find((c) => c.taskId === 'ctx-task') as unknown as Record<string, unknown>;
    expect(call.contextId).toBe('campaign-7');
    expect(call.context).toEqual({ brand: 'Acme', tone: 'warm' });
    // The factory's reported cost wins over the service's price.
    expect(task.attempts[0].cost).toBe(0.004);
    expect(task.costUsd).toBe(0.004);
  });

  it('answers relevant memories and patterns of a task type, and refuses a missing type', async () => {
    for (const id of ['mem-1', 'mem-2', 'mem-3']) {
      await runtime.api.post('/tasks', { id, type: 'draft_email', parameters: { topic: id } });
      await runtime.api.until(`/tasks/${id}`, (t) => t.status === 'SUCCEEDED');
    }
    const relevant = await runtime.api.until(
      '/memory/relevant?type=draft_email&limit=2',
      (body) => body.memories?.length === 2,
    );
    expect(relevant.taskType).toBe('draft_email');
    expect(relevant.memories.map((m: { taskId: string }) => m.taskId)).toEqual(['mem-3', 'mem-2']);
    expect(relevant.memories[0]).toMatchObject({ service: 'writer', success: true });

    const patterns = await runtime.api.get('/patterns/draft_email');
    expect(patterns.status).toBe(200);
    expect(patterns.body.statistics.services).toEqual([
      expect.objectContaining({ service: 'writer', successes: expect.any(Number) }),
    ]);
    expect(patterns.body.statistics.overall.count).toBeGreaterThanOrEqual(4);

    const missing = await runtime.api.get('/memory/relevant');
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('query.type');
    const badLimit = await runtime.api.get('/memory/relevant?type=draft_email&limit=1000');
    expect(badLimit.status).toBe(400);
    expect(JSON.stringify(badLimit.body)).toContain('query.limit');
  });
});
