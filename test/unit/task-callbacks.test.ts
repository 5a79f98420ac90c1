import { describe, expect, it } from 'vitest';
import { taskCallbackToken, tokenHash } from '../../lib/core/callback-tokens.ts';
import { ConflictError, NotFoundError, NotReadyError, ValidationError } from '../../lib/core/errors.ts';
import type { CallObservation } from '../../lib/core/statistics.ts';
import { TaskCallbacks } from '../../lib/core/task-callbacks.ts';
import type { TaskMessage } from '../../lib/core/task-message.ts';
import type { TaskRecord } from '../../lib/core/task-record.ts';
import type { TaskProgress } from '../../lib/core/task-worker.ts';
import { stepCallbackToken } from '../../lib/core/workflow/step-token.ts';
import { makeDecision, makeRoute, makeTask, manualClock, rejection } from './support.ts';

const START = '2026-01-15T10:00:00.000Z';

const decision = makeDecision(300);

const route = makeRoute('svc-a', { fallbacks: ['svc-b'], retrySchedule: [1, 2, 4] });

/** A task whose call to svc-a was accepted (202) 40 ms after it started at START, saved as waiting. */
function waitingRecord(token: string, overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    taskId: 'task-1',
    task: makeTask({ parameters: { market: 'eu' } }),
    status: 'RUNNING',
    seq: 1,
    requestHash: 'hash',
    decision,
    route,
    attempts: [
      { service: 'svc-a', attempt: 1, outcome: 'waiting', latencyMs: 40, at: '2026-01-15T10:00:00.040Z' },
    ],
    waiting: {
      for: 'callback',
      service: 'svc-a',
      until: '2026-01-15T10:05:00.000Z',
      tokenHash: tokenHash(token),
    },
    createdAt: START,
    updatedAt: '2026-01-15T10:00:00.040Z',
    ...overrides,
  };
}

/** `afterRead` runs once the record has been read: another writer acting meanwhile. */
function world(record?: TaskRecord, afterRead?: (records: Map<string, TaskRecord>) => void) {
  const clock = manualClock('2026-01-15T10:00:10.000Z');
  const records = new Map<string, TaskRecord>(record ? [[record.taskId, record]] : []);
  const saves: Array<{ expectedSeq: number; progress: TaskProgress }> = [];
  const recorded: CallObservation[] = [];
  const sent: TaskMessage[] = [];
  const log: string[] = [];
  const callbacks = new TaskCallbacks({
    async getTask(taskId) {
      const read = structuredClone(records.get(taskId));
      afterRead?.(records);
      return read;
    },
    async saveTask(taskId, expectedSeq, progress) {
      const current = records.get(taskId);
      if (!current || current.seq !== expectedSeq) return false;
      const { taskType: _type, features: _features, ...fields } = progress;
      const next: Record<string, unknown> = { ...current, seq: expectedSeq + 1 };
      for (const [field, value] of Object.entries(fields)) {
        if (value === undefined) delete next[field];
        else next[field] = value;
      }
      records.set(taskId, next as unknown as TaskRecord);
      saves.push({ expectedSeq, progress });
      log.push('save');
      return true;
    },
    async recordCalls(calls) {
      recorded.push(...calls);
      log.push('recordCalls');
    },
    queue: {
      async send(message) {
        sent.push(structuredClone(message));
        log.push('send');
      },
    },
    now: clock.now,
  });
  return { callbacks, records, saves, recorded, sent, log, clock };
}

/** The waiting call of `waitingRecord`, settled by a callback at 10:00:10, 10 s after it started. */
function calledBack(outcome: 'succeeded' | 'failed', extra: Partial<TaskRecord['attempts'][number]> = {}) {
  return {
    service: 'svc-a',
    attempt: 1,
    outcome,
    latencyMs: 10_000,
    ...extra,
    at: '2026-01-15T10:00:10.000Z',
  };
}

describe('TaskCallbacks.complete', () => {
  it('ends the task on success and counts the call from its start', async () => {
    const token = taskCallbackToken('task-1');
    const w = world(waitingRecord(token));

    expect(await w.callbacks.complete(token, { status: 'succeeded', output: { rows: 3 } })).toEqual({
      taskId: 'task-1',
      status: 'SUCCEEDED',
    });

    const record = w.records.get('task-1');
    expect(record).toMatchObject({
      seq: 2,
      status: 'SUCCEEDED',
      output: { rows: 3 },
      completedAt: '2026-01-15T10:00:10.000Z',
    });
    expect(record?.waiting).toBeUndefined();
    // The call started at 10:00:00.000 and ended with the callback at 10:00:10.000.
    expect(record?.attempts).toEqual([calledBack('succeeded')]);
    expect(w.recorded).toEqual([
      {
        taskType: 'generic',
        service: 'svc-a',
        success: true,
        timedOut: false,
        latencyMs: 10_000,
        at: '2026-01-15T10:00:10.000Z',
        features: ['priority=normal', 'size=small'],
      },
    ]);
    expect(w.log).toEqual(['save', 'recordCalls']);
    expect(w.sent).toEqual([]);
  });

  it('saves a failure, counts it, and hands the task to the worker', async () => {
    const token = taskCallbackToken('task-1');
    const w = world(waitingRecord(token));

    expect(await w.callbacks.complete(token, { status: 'failed', error: 'GPU out of memory' })).toEqual({
      taskId: 'task-1',
      status: 'RUNNING',
    });

    const record = w.records.get('task-1');
    const error = { kind: 'error' as const, message: 'GPU out of memory' };
    // The record says what follows, so the follow-up can be sent again should this send be lost.
    expect(record).toMatchObject({
      seq: 2,
      status: 'RUNNING',
      waiting: { for: 'failure', until: '2026-01-15T10:00:10.000Z', error },
    });
    expect(record?.completedAt).toBeUndefined();
    expect(record?.attempts).toEqual([calledBack('failed', { error })]);
    expect(w.recorded).toMatchObject([{ service: 'svc-a', success: false, latencyMs: 10_000 }]);
    expect(w.recorded).toHaveLength(1);
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]).toMatchObject({
      taskId: 'task-1',
      seq: 2,
      submittedAt: START,
      resume: { kind: 'callback-failed', error },
      notBefore: '2026-01-15T10:00:10.000Z',
      route: { primary: 'svc-a' },
      attempts: record?.attempts,
    });
    expect(w.sent[0]?.task).toEqual(record?.task);
    expect(w.sent[0]?.decision).toEqual(decision);
  });

  it('reports a structured failure as JSON text', async () => {
    const token = taskCallbackToken('task-1');
    const w = world(waitingRecord(token));
    await w.callbacks.complete(token, { status: 'failed', error: { code: 'OOM', gpu: 0 } });
    expect(w.sent[0]?.resume).toEqual({
      kind: 'callback-failed',
      error: { kind: 'error', message: '{"code":"OOM","gpu":0}' },
    });
  });

  it('answers NotFoundError for a token naming no task', async () => {
    const w = world(waitingRecord(taskCallbackToken('task-1')));
    const error = await rejection(w.callbacks.complete(taskCallbackToken('task-2'), { status: 'succeeded' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(w.saves).toEqual([]);
  });

  it('answers NotFoundError for a token of the task that is not the one it waits for', async () => {
    const w = world(waitingRecord(taskCallbackToken('task-1')));
    const forged = taskCallbackToken('task-1');
    const error = await rejection(w.callbacks.complete(forged, { status: 'succeeded', output: 'x' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(w.saves).toEqual([]);
    expect(w.recorded).toEqual([]);
    expect(w.records.get('task-1')?.status).toBe('RUNNING');
  });

  it('answers NotFoundError for a token that is not a task token', async () => {
    const w = world(waitingRecord(taskCallbackToken('task-1')));
    const step = stepCallbackToken({
      executionName: 'task-1',
      stepId: 's',
      service: 'svc-a',
      taskType: 'generic',
      engineToken: 'engine',
    });
    expect(await rejection(w.callbacks.complete(step, { status: 'succeeded' }))).toBeInstanceOf(
      NotFoundError,
    );
    expect(await rejection(w.callbacks.complete('garbage', { status: 'succeeded' }))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it('answers NotReadyError while the worker has not saved that the task waits', async () => {
    const token = taskCallbackToken('task-1');
    const pending = waitingRecord(token, { status: 'PENDING', seq: 0, waiting: undefined, attempts: [] });
    const w = world(pending);
    const error = await rejection(w.callbacks.complete(token, { status: 'succeeded' }));
    expect(error).toBeInstanceOf(NotReadyError);
    expect(w.saves).toEqual([]);
    expect(w.records.get('task-1')).toEqual(pending);
  });

  it('answers NotFoundError for a finished task, as for any token it does not wait with', async () => {
    const token = taskCallbackToken('task-1');
    const w = world(
      waitingRecord(token, {
        status: 'SUCCEEDED',
        seq: 2,
        waiting: undefined,
        output: 'first',
        completedAt: '2026-01-15T10:00:05.000Z',
      }),
    );
    const error = await rejection(w.callbacks.complete(token, { status: 'succeeded', output: 'second' }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(w.records.get('task-1')?.output).toBe('first');
    expect(w.recorded).toEqual([]);
  });

  it('answers ConflictError when the task moved on while the callback was handled, and counts nothing', async () => {
    const token = taskCallbackToken('task-1');
    const waiting = waitingRecord(token);
    const w = world(waiting, (records) => records.set('task-1', { ...waiting, seq: 2 }));
    const error = await rejection(w.callbacks.complete(token, { status: 'succeeded' }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(w.recorded).toEqual([]);
    expect(w.sent).toEqual([]);
  });

  it.each([
    ['no status', { output: 1 }],
    ['an unknown status', { status: 'done' }],
  ])('answers ValidationError naming the status for a body with %s', async (_, body) => {
    const token = taskCallbackToken('task-1');
    const w = world(waitingRecord(token));
    const error = await rejection(w.callbacks.complete(token, body));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual([
      expect.stringMatching(/(^|\.)status$/),
    ]);
    expect(w.saves).toEqual([]);
  });

  it('answers ValidationError naming the body for a body that is not an object', async () => {
    const token = taskCallbackToken('task-1');
    const w = world(waitingRecord(token));
    const error = await rejection(w.callbacks.complete(token, 'succeeded'));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['body']);
  });
});

describe('TaskCallbacks.owns', () => {
  it('owns task tokens and not step tokens', () => {
    expect(TaskCallbacks.owns(taskCallbackToken('task-1'))).toBe(true);
    const step = stepCallbackToken({
      executionName: 'run-1',
      stepId: 's',
      service: 'svc-a',
      taskType: 'generic',
      engineToken: 'engine',
    });
    expect(TaskCallbacks.owns(step)).toBe(false);
  });
});
