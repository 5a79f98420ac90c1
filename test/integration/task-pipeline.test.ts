import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../lib/core/task-record.ts';
import { invoke } from '../../lib/local/functions.ts';
import { apiEvent } from '../helpers/events.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { backends, createServingStack } from '../helpers/stack.ts';

type Result = APIGatewayProxyStructuredResultV2 & { body: string };

async function call(id: string, event: unknown) {
  const result = (await invoke(id, event)) as Result;
  return { status: result.statusCode, body: JSON.parse(result.body) };
}

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(backends())('task pipeline on $kind', (backend) => {
  it('fails over from a failing primary to a fallback and records every call', async () => {
    const stack = await createServingStack(backend);
    const primary = await startFactory(() => ({ status: 503, body: { error: 'overloaded' } }));
    const fallback = await startFactory((c) => ({
      status: 200,
      body: { status: 'ok', output: { sent: c.parameters.subject } },
    }));
    servers.push(primary, fallback);
    const register = (name: string, endpoint: string, capabilities: string[]) =>
      call('RegisterService', apiEvent('POST /services', { body: { name, endpoint, capabilities } }));
    // Capability routing puts the specialist first: email-ai is the primary, marketing-ai the fallback.
    expect((await register('email-ai', primary.endpoint, ['email_campaign'])).status).toBe(201);
    expect((await register('marketing-ai', fallback.endpoint, ['email_campaign', 'blog_post'])).status).toBe(
      201,
    );

    const submitted = await call(
      'SubmitTask',
      apiEvent('POST /tasks', {
        body: {
          id: 'task_123',
          type: 'email_campaign',
          priority: 'high',
          parameters: { subject: 'Product Launch' },
          strategy: 'capability',
        },
      }),
    );
    expect(submitted.status).toBe(202);
    const record = submitted.body as TaskRecord;
    const execution = await stack.engine.waitFor(record.executionId as string);
    expect(execution.status).toBe('SUCCEEDED');

    const task = (await call('GetTask', apiEvent('GET /tasks/{taskId}', { path: { taskId: 'task_123' } })))
      .body as TaskRecord;
    expect(task.status).toBe('SUCCEEDED');
    expect(task.output).toEqual({ sent: 'Product Launch' });
    expect(task.decision?.priorityScore).toBe(3);
    expect(task.route).toMatchObject({ primary: 'marketing-ai', tried: ['email-ai'] });
    // 503 is retried on the same service: 1 call + 3 retries (exponential 1, 2, 4 s), then failover.
    expect(task.attempts.map((a) => `${a.service}:${a.outcome}`)).toEqual([
      'email-ai:failed',
      'email-ai:failed',
      'email-ai:failed',
      'email-ai:failed',
      'marketing-ai:succeeded',
    ]);
    expect(primary.calls).toHaveLength(4);
    expect(fallback.calls[0]).toMatchObject({
      action: 'email_campaign',
      taskId: 'task_123',
      parameters: { subject: 'Product Launch' },
    });

    // Learning counted every call: the primary's failures against it, the fallback's success for it.
    const stats = await stack.orchestrator.memory.statistics('email_campaign');
    expect(stats.services.find((s) => s.service === 'marketing-ai')).toMatchObject({
      count: 1,
      successes: 1,
    });
    expect(stats.services.find((s) => s.service === 'email-ai')).toMatchObject({ count: 4, failures: 4 });
    expect((await stack.orchestrator.memory.getResult('task_123')).success).toBe(true);
  });

  it('retries with the task policy, then fails over, and fails the task with a cause when every service fails', async () => {
    const stack = await createServingStack(backend);
    const down = await startFactory(() => ({ status: 500, body: { error: 'boom' } }));
    const refuses = await startFactory(() => ({ status: 400, body: { error: 'cannot do that' } }));
    servers.push(down, refuses);
    await stack.orchestrator.services.register({
      name: 'a-down',
      endpoint: down.endpoint,
      capabilities: ['finance'],
    });
    await stack.orchestrator.services.register({
      name: 'b-refuses',
      endpoint: refuses.endpoint,
      capabilities: ['finance'],
    });
    const { task } = await stack.orchestrator.tasks.submit({
      id: 'doomed',
      type: 'finance',
      priority: 'critical',
      strategy: 'round-robin',
    });
    const execution = await stack.engine.waitFor(task.executionId as string);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('TaskFailed');
    const record = await stack.orchestrator.tasks.get('doomed');
    expect(record.status).toBe('FAILED');
    expect(record.error?.message).toMatch(/no fallback left after/);
    // 500 is retried (4 calls); a 400 rejection is not retried (1 call).
    expect(down.calls).toHaveLength(4);
    expect(refuses.calls).toHaveLength(1);
    expect(record.attempts).toHaveLength(5);
    const result = await stack.orchestrator.memory.getResult('doomed');
    expect(result.success).toBe(false);
  });

  it('fails a task that no service can take, saying why', async () => {
    const stack = await createServingStack(backend);
    const { task } = await stack.orchestrator.tasks.submit({ id: 'orphan', type: 'astrology' });
    expect((await stack.engine.waitFor(task.executionId as string)).status).toBe('FAILED');
    const record = await stack.orchestrator.tasks.get('orphan');
    expect(record.error).toEqual({
      kind: 'no_route',
      message: "no registered service can handle task type 'astrology'",
    });
  });

  it('starts one pipeline for repeated submissions with the same Idempotency-Key', async () => {
    const stack = await createServingStack(backend);
    const factory = await startFactory(() => ({ status: 200, body: { status: 'ok', output: 'done' } }));
    servers.push(factory);
    await stack.orchestrator.services.register({
      name: 'content-ai',
      endpoint: factory.endpoint,
      capabilities: ['blog_post'],
    });
    const submit = () =>
      call(
        'SubmitTask',
        apiEvent('POST /tasks', {
          body: { type: 'blog_post', parameters: { topic: 'AI' } },
          headers: { 'Idempotency-Key': 'req-42' },
        }),
      );
    const answers = await Promise.all([submit(), submit(), submit()]);
    const taskIds = new Set(answers.map((a) => (a.body as TaskRecord).taskId));
    expect(taskIds.size).toBe(1);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    const created = answers.find((a) => a.status === 202)?.body as TaskRecord;
    await stack.engine.waitFor(created.executionId as string);
    expect((await submit()).status).toBe(200);
    expect(factory.calls).toHaveLength(1);

    const conflict = await call(
      'SubmitTask',
      apiEvent('POST /tasks', {
        body: { type: 'blog_post', parameters: { topic: 'other' } },
        headers: { 'Idempotency-Key': 'req-42' },
      }),
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toBe(
      "Idempotency-Key 'req-42' was already used for a different request",
    );
  });
});
