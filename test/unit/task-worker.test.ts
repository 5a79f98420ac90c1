import { describe, expect, it } from 'vitest';
import { Brain, type Decision } from '../../lib/core/brain.ts';
import { taskIdOfToken, tokenHash } from '../../lib/core/callback-tokens.ts';
import type { FactoryCaller, FactoryCallResult, FactoryRequest } from '../../lib/core/factory-call.ts';
import { LIMITS } from '../../lib/core/limits.ts';
import { type HealthChange, PassiveHealth } from '../../lib/core/passive-health.ts';
import { Router } from '../../lib/core/routing/router.ts';
import type { Service } from '../../lib/core/service.ts';
import type { CallObservation } from '../../lib/core/statistics.ts';
import type { TaskMessage } from '../../lib/core/task-message.ts';
import type { TaskRecord } from '../../lib/core/task-record.ts';
import { type TaskProgress, TaskWorker } from '../../lib/core/task-worker.ts';
import { makeService, makeTask, manualClock, seededRandom } from './support.ts';

const START = '2026-01-15T10:00:00.000Z';

const ok = (output: unknown, latencyMs = 50): FactoryCallResult => ({ ok: true, output, latencyMs });
const fail = (retryable: boolean, latencyMs = 50): FactoryCallResult => ({
  ok: false,
  error: { kind: 'error', message: 'HTTP 503', status: 503 },
  retryable,
  latencyMs,
});

/**
 * The worker over in-memory ports: the real brain and router on a fixed registry, task records in
 * a Map saved on their `seq`, and arrays for the statistics, health and queue writes. `log` keeps
 * the order of the writes.
 */
function world(
  options: { services?: Service[]; script?: FactoryCallResult[]; callbackBaseUrl?: string } = {},
) {
  const clock = manualClock(START);
  const services = options.services ?? [makeService('svc-a')];
  const script = [...(options.script ?? [])];
  const log: string[] = [];
  const records = new Map<string, TaskRecord>();
  const saves: Array<{ taskId: string; expectedSeq: number; progress: TaskProgress }> = [];
  const recordedCalls: CallObservation[][] = [];
  const recordedHealth: HealthChange[][] = [];
  const sent: Array<{ message: TaskMessage; delaySeconds: number | undefined }> = [];
  const calls: Array<{ endpoint: string; request: FactoryRequest; timeoutMs: number }> = [];
  const factories: FactoryCaller = {
    async execute(endpoint, request, timeoutMs) {
      calls.push({ endpoint, request, timeoutMs });
      log.push(`call ${endpoint}`);
      const result = script.shift();
      if (!result) throw new Error(`call ${calls.length} was not scripted`);
      clock.advance(result.latencyMs);
      return result;
    },
  };
  const listServices = async () => services;
  const statsFor = async () => [];
  const random = seededRandom(7);
  const brain = new Brain({ listServices, statsFor, now: clock.now });
  const router = new Router(
    { listServices, statsFor, random, now: clock.now },
    { retryPolicy: { baseDelaySeconds: 2 } },
  );
  const worker = new TaskWorker({
    brain,
    router,
    services: listServices,
    statsFor,
    factories,
    health: new PassiveHealth({ failureThreshold: 5, cooldownSeconds: 30 }, clock.now),
    observe: () => {},
    context: async () => ({}),
    callTimeoutMs: 10_000,
    now: clock.now,
    random,
    async getTask(taskId) {
      return structuredClone(records.get(taskId));
    },
    async saveTask(taskId, expectedSeq, progress) {
      const record = records.get(taskId);
      if (!record || record.seq !== expectedSeq) {
        log.push('save refused');
        return false;
      }
      const { taskType: _type, features: _features, ...fields } = progress;
      const next: Record<string, unknown> = { ...record, seq: expectedSeq + 1 };
      for (const [field, value] of Object.entries(fields)) {
        if (value === undefined) delete next[field];
        else next[field] = value;
      }
      records.set(taskId, structuredClone(next) as unknown as TaskRecord);
      saves.push({ taskId, expectedSeq, progress });
      log.push('save');
      return true;
    },
    async recordCalls(observations) {
      recordedCalls.push([...observations]);
      log.push('recordCalls');
    },
    async recordHealth(changes) {
      recordedHealth.push([...changes]);
    },
    queue: {
      async send(message, delaySeconds) {
        sent.push({ message: structuredClone(message), delaySeconds });
        log.push('send');
      },
    },
    callbackBaseUrl: options.callbackBaseUrl,
  });

  /** The record a submission leaves, and the first message it sends. */
  function submit(overrides: Partial<Parameters<typeof makeTask>[0]> = {}): TaskMessage {
    const task = makeTask(overrides);
    records.set(task.id, {
      taskId: task.id,
      task,
      status: 'PENDING',
      seq: 0,
      requestHash: 'hash',
      attempts: [],
      createdAt: START,
      updatedAt: START,
    });
    return { taskId: task.id, seq: 0, task, submittedAt: START };
  }

  return {
    worker,
    clock,
    script,
    records,
    saves,
    sent,
    calls,
    log,
    submit,
    /** Every observation written to the statistics, in order. */
    recorded: () => recordedCalls.flat(),
    recordedHealth: () => recordedHealth.flat(),
  };
}

describe('TaskWorker: a first message', () => {
  it('saves a success once, then writes one observation per call, and sends nothing', async () => {
    const w = world({ script: [ok({ report: 'done' }, 120)] });
    const message = w.submit();

    expect(await w.worker.process(message, { receiveCount: 1 })).toMatchObject({
      taskId: 'task-1',
      result: 'SUCCEEDED',
      calls: 1,
    });

    expect(w.saves.map((s) => s.expectedSeq)).toEqual([0]);
    const record = w.records.get('task-1');
    expect(record).toMatchObject({
      seq: 1,
      status: 'SUCCEEDED',
      output: { report: 'done' },
      decision: { taskId: 'task-1', taskType: 'generic' },
      route: { taskId: 'task-1', primary: 'svc-a', strategy: 'capability' },
      completedAt: '2026-01-15T10:00:00.120Z',
    });
    expect(record?.attempts).toEqual([
      { service: 'svc-a', attempt: 1, outcome: 'succeeded', latencyMs: 120, at: '2026-01-15T10:00:00.120Z' },
    ]);
    expect(record?.waiting).toBeUndefined();
    expect(w.recorded()).toEqual([
      {
        taskType: 'generic',
        service: 'svc-a',
        success: true,
        timedOut: false,
        latencyMs: 120,
        at: '2026-01-15T10:00:00.120Z',
        routedBy: 'capability',
        features: ['priority=normal', 'size=small'],
      },
    ]);
    // The statistics are written after the save.
    expect(w.log).toEqual(['call http://svc-a:8080', 'save', 'recordCalls']);
    expect(w.sent).toEqual([]);
  });

  it('saves a retryable failure as RUNNING and sends the retry with the policy delay', async () => {
    const w = world({ script: [fail(true, 50)] });
    const message = w.submit();

    expect(await w.worker.process(message, { receiveCount: 1 })).toMatchObject({
      taskId: 'task-1',
      result: 'RETRY',
      calls: 1,
    });

    const record = w.records.get('task-1');
    const until = '2026-01-15T10:00:02.050Z'; // the call ended at .050, the policy waits 2 s
    expect(record).toMatchObject({ seq: 1, status: 'RUNNING', waiting: { for: 'retry', until } });
    expect(w.recorded()).toMatchObject([{ service: 'svc-a', success: false }]);
    expect(w.sent).toHaveLength(1);
    const [follow] = w.sent;
    expect(follow?.delaySeconds).toBe(2);
    expect(follow?.message).toMatchObject({
      taskId: 'task-1',
      seq: 1,
      resume: { kind: 'retry' },
      notBefore: until,
      submittedAt: START,
      route: { primary: 'svc-a' },
      attempts: [{ service: 'svc-a', outcome: 'failed' }],
    });
    expect(follow?.message.decision).toEqual(record?.decision);
  });

  it('calls the same service again on the retry, with the saved decision', async () => {
    const w = world({ services: [makeService('svc-a'), makeService('svc-b')], script: [fail(true)] });
    await w.worker.process(w.submit(), { receiveCount: 1 });
    const sent = w.sent[0]?.message as TaskMessage;
    // Marked, to tell the carried decision from a new one.
    const retry = { ...sent, decision: { ...(sent.decision as Decision), reason: 'carried by the message' } };
    const primary = w.records.get('task-1')?.route?.primary;
    expect(primary).toBeDefined();

    w.script.push(ok('done'));
    w.clock.set(retry.notBefore as string);
    expect(await w.worker.process(retry, { receiveCount: 1 })).toMatchObject({ result: 'SUCCEEDED' });
    expect(w.calls.map((c) => c.endpoint)).toEqual([`http://${primary}:8080`, `http://${primary}:8080`]);
    const record = w.records.get('task-1');
    expect(record).toMatchObject({ seq: 2, status: 'SUCCEEDED' });
    expect(record?.decision?.reason).toBe('carried by the message');
    expect(record?.attempts.map((a) => [a.service, a.outcome])).toEqual([
      [primary, 'failed'],
      [primary, 'succeeded'],
    ]);
  });

  it('fails a task whose output is too large to keep inline', async () => {
    const w = world({ script: [ok('x'.repeat(LIMITS.inlineOutput.bytes + 10))] });
    expect(await w.worker.process(w.submit(), { receiveCount: 1 })).toMatchObject({ result: 'FAILED' });
    const record = w.records.get('task-1');
    expect(record).toMatchObject({ status: 'FAILED', error: { kind: 'output_too_large' } });
    expect(record?.output).toBeUndefined();
  });

  it('keeps an output just under the limit', async () => {
    // A JSON string adds its two quotes.
    const output = 'x'.repeat(LIMITS.inlineOutput.bytes - 2);
    const w = world({ script: [ok(output)] });
    expect(await w.worker.process(w.submit(), { receiveCount: 1 })).toMatchObject({ result: 'SUCCEEDED' });
    expect(w.records.get('task-1')?.output).toBe(output);
  });
});

describe('TaskWorker: duplicates', () => {
  it('writes no statistics when the save finds the seq moved', async () => {
    const w = world({ script: [ok('done')] });
    const message = w.submit();
    // Another delivery of the same message got there first.
    const record = w.records.get('task-1') as TaskRecord;
    w.records.set('task-1', { ...record, seq: 1, status: 'SUCCEEDED' });

    expect(await w.worker.process(message, { receiveCount: 1 })).toEqual({
      taskId: 'task-1',
      result: 'DUPLICATE',
      calls: 0,
      resent: false,
    });
    expect(w.recorded()).toEqual([]);
    expect(w.recordedHealth()).toEqual([]);
    expect(w.sent).toEqual([]);
    expect(w.records.get('task-1')).toMatchObject({ seq: 1, status: 'SUCCEEDED' });
  });

  it('re-sends the continuation of a task one step ahead and waiting, without calling a factory', async () => {
    const w = world({ script: [fail(true)] });
    const message = w.submit();
    await w.worker.process(message, { receiveCount: 1 });
    const lost = w.sent.splice(0); // the invocation stopped before its send reached the queue
    expect(lost).toHaveLength(1);
    const callsBefore = w.calls.length;

    expect(await w.worker.process(message, { receiveCount: 2 })).toEqual({
      taskId: 'task-1',
      result: 'DUPLICATE',
      calls: 0,
      resent: true,
    });
    expect(w.calls).toHaveLength(callsBefore);
    expect(w.sent).toEqual(lost);
    expect(w.records.get('task-1')?.seq).toBe(1);
  });

  it('re-sends the follow-up of a failed callback when its deadline message comes, if it was lost', async () => {
    const w = world({ script: [fail(true)] });
    const message = w.submit();
    await w.worker.process(message, { receiveCount: 1 });
    // Say the call had been waiting for a callback that failed, and the callback's send was lost:
    // the record is one step ahead and says what follows.
    const record = w.records.get('task-1') as TaskRecord;
    const error = { kind: 'error' as const, message: 'render farm on fire' };
    w.records.set('task-1', { ...record, waiting: { for: 'failure', until: record.updatedAt, error } });
    w.sent.splice(0);
    const deadline = { ...message, resume: { kind: 'callback-deadline' as const } };

    expect(await w.worker.process(deadline, { receiveCount: 1 })).toMatchObject({
      result: 'DUPLICATE',
      resent: true,
    });
    expect(w.sent).toEqual([
      {
        message: expect.objectContaining({ seq: 1, resume: { kind: 'callback-failed', error } }),
        delaySeconds: 0,
      },
    ]);
  });

  it('re-sends nothing for a redelivery of a task that has finished', async () => {
    const w = world({ script: [ok('done')] });
    const message = w.submit();
    await w.worker.process(message, { receiveCount: 1 });

    expect(await w.worker.process(message, { receiveCount: 2 })).toEqual({
      taskId: 'task-1',
      result: 'DUPLICATE',
      calls: 0,
      resent: false,
    });
    expect(w.calls).toHaveLength(1);
    expect(w.sent).toEqual([]);
  });
});

describe('TaskWorker: timing', () => {
  it('sends a message that is not due back with the rest of its wait', async () => {
    const w = world({ script: [ok('done')] });
    const message = { ...w.submit(), notBefore: '2026-01-15T10:01:30.000Z' };

    expect(await w.worker.process(message, { receiveCount: 1 })).toEqual({
      taskId: 'task-1',
      result: 'DEFERRED',
      calls: 0,
    });
    expect(w.sent).toEqual([{ message, delaySeconds: 90 }]);
    expect(w.calls).toEqual([]);
    expect(w.saves).toEqual([]);
  });

  it('works at once on a message due within half a second (queue delays count whole seconds)', async () => {
    const w = world({ script: [ok('done')] });
    const message = { ...w.submit(), notBefore: '2026-01-15T10:00:00.400Z' };

    expect(await w.worker.process(message, { receiveCount: 1 })).toMatchObject({ result: 'SUCCEEDED' });
    expect(w.sent).toEqual([]);
  });
});

describe('TaskWorker: callbacks', () => {
  it('offers the factory a callback URL and token when the API URL is known', async () => {
    const w = world({
      script: [{ ok: true, accepted: true, latencyMs: 30 }],
      callbackBaseUrl: 'https://api.example.com/prod/',
    });

    expect(await w.worker.process(w.submit(), { receiveCount: 1 })).toMatchObject({
      taskId: 'task-1',
      result: 'CALLBACK',
      calls: 0,
    });
    const request = w.calls[0]?.request as FactoryRequest;
    const token = request.taskToken as string;
    expect(taskIdOfToken(token)).toBe('task-1');
    expect(request.callbackUrl).toBe(`https://api.example.com/prod/callbacks/${encodeURIComponent(token)}`);

    // The task waits for the callback until the end of its budget; only the token's hash is kept.
    const record = w.records.get('task-1') as TaskRecord;
    const budgetEnd = new Date(
      Date.parse(START) + (record.decision?.resources.timeoutSeconds as number) * 1000,
    ).toISOString();
    expect(record).toMatchObject({
      seq: 1,
      status: 'RUNNING',
      waiting: { for: 'callback', service: 'svc-a', until: budgetEnd, tokenHash: tokenHash(token) },
    });
    expect(JSON.stringify(record)).not.toContain(token);
    expect(w.recorded()).toEqual([]);
    expect(w.sent.map((s) => s.message)).toMatchObject([
      { seq: 1, resume: { kind: 'callback-deadline' }, notBefore: budgetEnd },
    ]);
  });

  it('gives each task its own callback token', async () => {
    const w = world({
      script: [
        { ok: true, accepted: true, latencyMs: 30 },
        { ok: true, accepted: true, latencyMs: 30 },
      ],
      callbackBaseUrl: 'https://api.example.com',
    });
    await w.worker.process(w.submit({ id: 'task-1' }), { receiveCount: 1 });
    await w.worker.process(w.submit({ id: 'task-2' }), { receiveCount: 1 });
    const [one, two] = w.calls.map((c) => c.request.taskToken as string);
    expect(taskIdOfToken(one as string)).toBe('task-1');
    expect(taskIdOfToken(two as string)).toBe('task-2');
    expect(w.calls[0]?.request.callbackUrl).toMatch(/^https:\/\/api\.example\.com\/callbacks\/[^/]+$/);
  });

  it('offers no callback without the API URL', async () => {
    const w = world({ script: [ok('done')] });
    await w.worker.process(w.submit(), { receiveCount: 1 });
    expect(w.calls).toHaveLength(1);
    expect(w.calls[0]?.request).not.toHaveProperty('callbackUrl');
    expect(w.calls[0]?.request).not.toHaveProperty('taskToken');
  });
});
