import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../lib/core/task-record.ts';
import { REQUEUE_AFTER_MS } from '../../lib/core/task-submission.ts';
import { invoke } from '../../lib/local/functions.ts';
import { HttpGateway } from '../../lib/local/http-gateway.ts';
import { createOrchestrator } from '../../lib/orchestrator.ts';
import { apiEvent } from '../helpers/events.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { backends, createServingStack, type ServingStack, waitForTask } from '../helpers/stack.ts';

type Result = APIGatewayProxyStructuredResultV2 & { body: string };

async function call(id: string, event: unknown) {
  const result = (await invoke(id, event)) as Result;
  return { status: result.statusCode, body: JSON.parse(result.body) };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A factory on loopback, closed after the test. */
async function factory(...args: Parameters<typeof startFactory>) {
  const server = await startFactory(...args);
  closers.push(server.close);
  return server;
}

/** Registers `server` as service `name` with one capability. */
async function register(stack: ServingStack, name: string, server: { endpoint: string }, capability: string) {
  await stack.orchestrator.services.register({ name, endpoint: server.endpoint, capabilities: [capability] });
}

/** The API on loopback, so factories can post callbacks to it. */
async function gateway(): Promise<string> {
  const server = new HttpGateway();
  const url = await server.listen(0);
  closers.push(() => server.close());
  return url;
}

/** A factory that answers 202 and posts `result(call)` to the call's callback URL after `afterMs`. */
async function asyncFactory(result: (n: number) => unknown, afterMs = 50) {
  const posted: Array<{ status: number; body: unknown }> = [];
  const server = await factory((c, n) => {
    const request = c as unknown as { callbackUrl: string; taskToken: string };
    setTimeout(async () => {
      const response = await fetch(request.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ taskToken: request.taskToken, ...(result(n) as object) }),
      });
      posted.push({ status: response.status, body: await response.json() });
    }, afterMs);
    return { status: 202, body: { status: 'accepted' } };
  });
  return { ...server, posted };
}

describe.each(backends())('the task worker on $kind', (backend) => {
  it('fails over from a failing primary to a fallback in one invocation, learning from every call', async () => {
    const stack = await createServingStack(backend, { router: { retryPolicy: { maxRetries: 0 } } });
    const primary = await factory(() => ({ status: 503, body: { error: 'overloaded' } }));
    const fallback = await factory((c) => ({
      status: 200,
      body: { status: 'ok', output: { sent: c.parameters.subject } },
    }));
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
    expect(submitted.body).toMatchObject({ taskId: 'task_123', status: 'PENDING', seq: 0 });
    await waitForTask(stack.orchestrator, 'task_123');

    const task = (await call('GetTask', apiEvent('GET /tasks/{taskId}', { path: { taskId: 'task_123' } })))
      .body as TaskRecord;
    expect(task).toMatchObject({ status: 'SUCCEEDED', output: { sent: 'Product Launch' }, seq: 1 });
    expect(task.decision?.priorityScore).toBe(3);
    expect(task.route).toMatchObject({ primary: 'marketing-ai', tried: ['email-ai'] });
    expect(task.route?.reason).toMatch(/^failover from email-ai to marketing-ai: re-scored at failure time/);
    expect(task.attempts.map((a) => `${a.service}:${a.outcome}`)).toEqual([
      'email-ai:failed',
      'marketing-ai:succeeded',
    ]);
    expect(fallback.calls[0]).toMatchObject({
      action: 'email_campaign',
      taskId: 'task_123',
      parameters: { subject: 'Product Launch' },
    });

    // Learning counted every call: the primary's failure against it, the fallback's success for it.
    const stats = await stack.orchestrator.memory.statistics('email_campaign');
    expect(stats.services.find((s) => s.service === 'marketing-ai')).toMatchObject({
      count: 1,
      successes: 1,
    });
    expect(stats.services.find((s) => s.service === 'email-ai')).toMatchObject({ count: 1, failures: 1 });
    expect((await stack.orchestrator.memory.getResult('task_123')).success).toBe(true);
    expect((await stack.orchestrator.reports.routingStats()).serviceDistribution).toEqual({ 'email-ai': 1 });
  });

  it('retries the same service with a message sent again after the policy delay, then succeeds', async () => {
    const stack = await createServingStack(backend, {
      router: { retryPolicy: { backoff: 'exponential', maxRetries: 3 } },
    });
    const flaky = await factory((_c, n) =>
      n <= 2
        ? { status: 500, body: { error: 'try later' } }
        : { status: 200, body: { status: 'ok', output: n } },
    );
    await register(stack, 'flaky', flaky, 'report');
    await stack.orchestrator.tasks.submit({ id: 'retried', type: 'report' });

    // Between the calls the task waits, saved as RUNNING, for a delayed message.
    const deadline = Date.now() + 10_000;
    let waiting: TaskRecord | undefined;
    while (!waiting && Date.now() < deadline) {
      const record = await stack.orchestrator.taskQueries.get('retried');
      if (record.status === 'RUNNING' && record.waiting?.for === 'retry') waiting = record;
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(waiting?.attempts).toHaveLength(1);

    const record = await waitForTask(stack.orchestrator, 'retried');
    expect(record).toMatchObject({ status: 'SUCCEEDED', output: 3, seq: 3 });
    expect(record.waiting).toBeUndefined();
    const at = record.attempts.map((a) => Date.parse(a.at));
    // Exponential: the first retry 1 s after the first call, the second 2 s after the second.
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(1_000);
    expect((at[2] as number) - (at[1] as number)).toBeGreaterThanOrEqual(2_000);
    expect(flaky.calls).toHaveLength(3);
  });

  it('retries with the task policy, then fails over, and fails the task with a cause when every service fails', async () => {
    const stack = await createServingStack(backend, {
      router: { retryPolicy: { backoff: 'linear', baseDelaySeconds: 0.05, maxRetries: 3 } },
    });
    const down = await factory(() => ({ status: 500, body: { error: 'boom' } }));
    const refuses = await factory(() => ({ status: 400, body: { error: 'cannot do that' } }));
    await register(stack, 'a-down', down, 'finance');
    await register(stack, 'b-refuses', refuses, 'finance');
    await stack.orchestrator.tasks.submit({
      id: 'doomed',
      type: 'finance',
      priority: 'critical',
      strategy: 'round-robin',
    });
    const record = await waitForTask(stack.orchestrator, 'doomed');
    expect(record.status).toBe('FAILED');
    expect(record.error).toMatchObject({ kind: 'exhausted' });
    expect(record.error?.message).toMatch(/no fallback left after/);
    // 500 is retried (4 calls); a 400 rejection is not retried (1 call).
    expect(down.calls).toHaveLength(4);
    expect(refuses.calls).toHaveLength(1);
    expect(record.attempts).toHaveLength(5);
    expect((await stack.orchestrator.memory.getResult('doomed')).success).toBe(false);
  });

  it('fails a task that no service can take, saying why', async () => {
    const stack = await createServingStack(backend);
    await stack.orchestrator.tasks.submit({ id: 'orphan', type: 'astrology' });
    const record = await waitForTask(stack.orchestrator, 'orphan');
    expect(record.error).toEqual({
      kind: 'no_route',
      message: "no registered service can handle task type 'astrology'",
    });
  });

  it('queues one task for repeated submissions with the same Idempotency-Key', async () => {
    const stack = await createServingStack(backend);
    const server = await factory(() => ({ status: 200, body: { status: 'ok', output: 'done' } }));
    await register(stack, 'content-ai', server, 'blog_post');
    const submit = (body: object = { type: 'blog_post', parameters: { topic: 'AI', words: 300 } }) =>
      call('SubmitTask', apiEvent('POST /tasks', { body, headers: { 'Idempotency-Key': 'req-42' } }));
    // The same request with its keys in another order, at both levels, is a repeat too.
    const reordered = { parameters: { words: 300, topic: 'AI' }, type: 'blog_post' };
    const answers = await Promise.all([submit(), submit(reordered), submit()]);
    const taskIds = new Set(answers.map((a) => (a.body as TaskRecord).taskId));
    expect(taskIds.size).toBe(1);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    await waitForTask(stack.orchestrator, [...taskIds][0] as string);
    expect((await submit()).status).toBe(200);
    await stack.settle();
    expect(server.calls).toHaveLength(1);

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

  it('completes a task whose factory answers 202 when the factory calls back', async () => {
    const callbackBaseUrl = await gateway();
    const stack = await createServingStack(backend, { callbackBaseUrl });
    const slow = await asyncFactory(() => ({ status: 'succeeded', output: { video: 'v-1' } }));
    await register(stack, 'video-ai', slow, 'video');
    await stack.orchestrator.tasks.submit({ id: 'long-work', type: 'video' });
    const record = await waitForTask(stack.orchestrator, 'long-work');
    expect(record).toMatchObject({ status: 'SUCCEEDED', output: { video: 'v-1' } });
    expect(record.attempts).toEqual([expect.objectContaining({ service: 'video-ai', outcome: 'succeeded' })]);
    expect(record.waiting).toBeUndefined();
    // The factory hears the answer to its callback just after the task is saved.
    await expect
      .poll(() => slow.posted)
      .toEqual([{ status: 200, body: { taskId: 'long-work', status: 'SUCCEEDED' } }]);
    const stats = await stack.orchestrator.memory.statistics('video');
    expect(stats.overall).toMatchObject({ count: 1, successes: 1 });
    // The callback's latency runs from the call to the callback.
    expect(record.attempts[0]?.latencyMs).toBeGreaterThanOrEqual(50);
  });

  it('fails over when a factory calls back with a failure, and refuses a second callback', async () => {
    const callbackBaseUrl = await gateway();
    const stack = await createServingStack(backend, {
      callbackBaseUrl,
      router: { retryPolicy: { maxRetries: 0 } },
    });
    const broken = await asyncFactory(() => ({ status: 'failed', error: 'render farm on fire' }));
    const steady = await factory(() => ({ status: 200, body: { status: 'ok', output: 'rendered' } }));
    await register(stack, 'a-broken', broken, 'render');
    await register(stack, 'b-steady', steady, 'render');
    await stack.orchestrator.tasks.submit({ id: 'rendered', type: 'render' });
    const record = await waitForTask(stack.orchestrator, 'rendered');
    expect(record).toMatchObject({ status: 'SUCCEEDED', output: 'rendered' });
    expect(record.attempts.map((a) => `${a.service}:${a.outcome}`)).toEqual([
      'a-broken:failed',
      'b-steady:succeeded',
    ]);
    expect(record.attempts[0]?.error?.message).toBe('render farm on fire');

    // The token was used: the same callback again is unknown, and changes nothing.
    const token = (broken.calls[0] as unknown as { taskToken: string }).taskToken;
    const again = await call(
      'Callback',
      apiEvent('POST /callbacks/{token}', { path: { token }, body: { status: 'succeeded', output: 'late' } }),
    );
    expect(again.status).toBe(404);
    expect((await stack.orchestrator.taskQueries.get('rendered')).output).toBe('rendered');
  });

  it('fails a task whose callback does not come within its time budget, counting the call as timed out', async () => {
    const callbackBaseUrl = await gateway();
    const stack = await createServingStack(backend, {
      callbackBaseUrl,
      router: { retryPolicy: { maxRetries: 0 } },
    });
    const silent = await factory(() => ({ status: 202, body: { status: 'accepted' } }));
    const steady = await factory(() => ({ status: 200, body: { status: 'ok', output: 'done' } }));
    await register(stack, 'a-silent', silent, 'scan');
    await register(stack, 'b-steady', steady, 'scan');
    await stack.orchestrator.tasks.submit({ id: 'scan-1', type: 'scan', resources: { timeoutSeconds: 3 } });
    const record = await waitForTask(stack.orchestrator, 'scan-1');
    // The callback never came: at the budget's end the call timed out, with no time left for a fallback.
    expect(record.attempts).toEqual([
      expect.objectContaining({
        service: 'a-silent',
        outcome: 'failed',
        error: expect.objectContaining({ kind: 'timeout' }),
      }),
    ]);
    expect(record.status).toBe('FAILED');
    expect(record.error?.kind).toBe('deadline');
    expect(steady.calls).toHaveLength(0);
    const stats = await stack.orchestrator.memory.statistics('scan');
    expect(stats.services.find((s) => s.service === 'a-silent')).toMatchObject({ count: 1, timeouts: 1 });
  });

  it('counts a call once when a delivery dies between the factory call and the save', async () => {
    const stack = await createServingStack(backend, { visibilityMs: 200 });
    const server = await factory(() => ({ status: 200, body: { status: 'ok', output: 'sent' } }));
    await register(stack, 'mailer', server, 'mail');
    // The first save of the task record fails as a crash would: the invocation ends without saving.
    let crashed = false;
    stack.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: { pk?: string } };
        if (!crashed && context.commandName === 'UpdateItemCommand' && input.Key?.pk === 'TASK#crash-1') {
          crashed = true;
          throw new Error('the process died');
        }
        return next(args);
      },
      { step: 'initialize', name: 'crashOnce' },
    );
    await stack.orchestrator.tasks.submit({ id: 'crash-1', type: 'mail' });
    const record = await waitForTask(stack.orchestrator, 'crash-1');
    expect(crashed).toBe(true);
    expect(record).toMatchObject({ status: 'SUCCEEDED', seq: 1 });
    // The redelivery called the factory again (the first answer was lost), and only its call counts.
    expect(server.calls).toHaveLength(2);
    expect(record.attempts).toHaveLength(1);
    const stats = await stack.orchestrator.memory.statistics('mail');
    expect(stats.overall).toMatchObject({ count: 1, successes: 1 });
  });

  it('queues a task again when a repeat finds it never taken, and only then', async () => {
    let offsetMs = 0;
    const stack = await createServingStack(backend, { now: () => new Date(Date.now() + offsetMs) });
    const server = await factory(() => ({ status: 200, body: { status: 'ok', output: 'sent' } }));
    await register(stack, 'mailer', server, 'newsletter');
    // A submitter that stopped between recording the task and queueing it: its message is lost.
    const stopped = createOrchestrator({
      doc: stack.doc,
      tables: stack.tables,
      queue: { send: async () => {} },
      cacheMs: 0,
    });
    const request = { id: 'lost-1', type: 'newsletter', parameters: { issue: 7 } };
    expect(await stopped.tasks.submit(request)).toMatchObject({ created: true });

    // A repeat soon after leaves it alone: the first message may still be on its way.
    offsetMs = REQUEUE_AFTER_MS - 5_000;
    expect((await stack.orchestrator.tasks.submit(request)).task).toMatchObject({
      status: 'PENDING',
      seq: 0,
    });
    await stack.settle();
    expect(server.calls).toHaveLength(0);

    // Past the wait, a repeat queues it again (once, however many repeats race), and it runs.
    offsetMs = REQUEUE_AFTER_MS + 1_000;
    const repeats = await Promise.all([1, 2, 3].map(() => stack.orchestrator.tasks.submit(request)));
    expect(repeats.every((r) => !r.created)).toBe(true);
    const record = await waitForTask(stack.orchestrator, 'lost-1');
    await stack.settle();
    expect(record).toMatchObject({ status: 'SUCCEEDED', output: 'sent' });
    expect(server.calls).toHaveLength(1);
    // A repeat of a task that ran queues nothing.
    expect((await stack.orchestrator.tasks.submit(request)).task.status).toBe('SUCCEEDED');
    await stack.settle();
    expect(server.calls).toHaveLength(1);
  });

  it('refuses a task whose context has expired, though storage has not removed it yet', async () => {
    let offsetMs = 0;
    const stack = await createServingStack(backend, { now: () => new Date(Date.now() + offsetMs) });
    await stack.orchestrator.memory.createContext('brief-1', { audience: 'eu' }, { ttlSeconds: 60 });
    await expect(
      stack.orchestrator.tasks.submit({ type: 'report', contextId: 'brief-1' }),
    ).resolves.toMatchObject({
      created: true,
    });
    offsetMs = 61_000;
    await expect(
      stack.orchestrator.tasks.submit({ type: 'report', contextId: 'brief-1' }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      issues: [{ field: 'contextId', message: "context 'brief-1' not found" }],
    });
  });

  it('changes nothing when a finished task is delivered again', async () => {
    const stack = await createServingStack(backend);
    const server = await factory(() => ({ status: 200, body: { status: 'ok', output: 'once' } }));
    await register(stack, 'once', server, 'job');
    await stack.orchestrator.tasks.submit({ id: 'job-1', type: 'job' });
    const done = await waitForTask(stack.orchestrator, 'job-1');
    const message = { taskId: 'job-1', seq: 0, task: done.task, submittedAt: done.createdAt };
    // A late copy of the first message, delivered twice (so the worker reads the record first).
    const result = await stack.orchestrator.worker.process(message, { receiveCount: 2 });
    expect(result).toMatchObject({ result: 'DUPLICATE', calls: 0, resent: false });
    // A copy delivered once works, but its save finds the task moved on: it counts nothing.
    const copy = await stack.orchestrator.worker.process(message, { receiveCount: 1 });
    expect(copy.result).toBe('DUPLICATE');
    expect(await stack.orchestrator.taskQueries.get('job-1')).toEqual(done);
    const stats = await stack.orchestrator.memory.statistics('job');
    expect(stats.overall.count).toBe(1);
  });
});
