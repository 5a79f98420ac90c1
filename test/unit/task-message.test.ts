import { describe, expect, it } from 'vitest';
import { continuationOf, parseTaskMessage } from '../../lib/core/task-message.ts';
import type { TaskRecord } from '../../lib/core/task-record.ts';
import { fieldsOf } from '../helpers/errors.ts';
import { makeDecision, makeRoute, makeTask } from './support.ts';

const START = '2026-01-15T10:00:00.000Z';

const decision = makeDecision(30);

const route = makeRoute('svc-a', { fallbacks: ['svc-b'], retrySchedule: [1, 2, 4], strategy: 'learned' });

const firstMessage = {
  taskId: 'task-1',
  seq: 0,
  task: { id: 'task-1', type: 'generic' },
  submittedAt: START,
};

function record(overrides: Partial<TaskRecord>): TaskRecord {
  return {
    taskId: 'task-1',
    task: makeTask({ parameters: { market: 'eu' } }),
    strategy: 'learned',
    status: 'RUNNING',
    seq: 3,
    requestHash: 'hash',
    decision,
    route,
    attempts: [
      {
        service: 'svc-a',
        attempt: 1,
        outcome: 'failed',
        latencyMs: 50,
        error: { kind: 'error', message: 'HTTP 503' },
        at: '2026-01-15T10:00:00.050Z',
      },
    ],
    createdAt: START,
    updatedAt: '2026-01-15T10:00:00.050Z',
    ...overrides,
  };
}

describe('parseTaskMessage', () => {
  it('reads a first message, filling the task defaults', () => {
    expect(parseTaskMessage(JSON.stringify(firstMessage))).toEqual({
      ...firstMessage,
      task: makeTask(),
    });
  });

  it('reads a continuation', () => {
    const continuation = {
      ...firstMessage,
      seq: 2,
      strategy: 'learned',
      decision,
      route,
      attempts: record({}).attempts,
      resume: { kind: 'callback-failed', error: { kind: 'error', message: 'GPU out of memory' } },
      notBefore: '2026-01-15T10:00:05.000Z',
    };
    expect(parseTaskMessage(JSON.stringify(continuation))).toEqual({ ...continuation, task: makeTask() });
  });

  it.each([{ kind: 'retry' }, { kind: 'callback-deadline' }])('reads the resume %o', (resume) => {
    expect(parseTaskMessage(JSON.stringify({ ...firstMessage, seq: 1, resume })).resume).toEqual(resume);
  });

  it.each(['not json', '', '{"taskId":', 'null', '[]', '"task-1"'])('refuses the body %j', (body) => {
    expect(fieldsOf(() => parseTaskMessage(body))).toEqual(['message']);
  });

  it.each(['taskId', 'seq', 'task', 'submittedAt'] as const)(
    'refuses a message without %s, naming it',
    (field) => {
      const { [field]: _left, ...rest } = firstMessage;
      expect(fieldsOf(() => parseTaskMessage(JSON.stringify(rest)))).toEqual([field]);
    },
  );

  it.each([
    ['seq', { seq: -1 }],
    ['seq', { seq: 1.5 }],
    ['submittedAt', { submittedAt: 'yesterday' }],
    ['notBefore', { notBefore: 'soon' }],
    ['strategy', { strategy: 'fastest' }],
    ['resume.error', { resume: { kind: 'callback-failed' } }],
    ['resume.kind', { resume: { kind: 'later' } }],
    ['task.type', { task: { id: 'task-1' } }],
  ])('refuses a message with a bad %s', (field, patch) => {
    expect(fieldsOf(() => parseTaskMessage(JSON.stringify({ ...firstMessage, ...patch })))).toContain(field);
  });
});

describe('continuationOf', () => {
  it('rebuilds the retry a RUNNING record waits on', () => {
    const waiting = record({ waiting: { for: 'retry', until: '2026-01-15T10:00:02.050Z' } });
    expect(continuationOf(waiting)).toEqual({
      taskId: 'task-1',
      seq: 3,
      task: waiting.task,
      strategy: 'learned',
      submittedAt: START,
      decision,
      route,
      attempts: waiting.attempts,
      resume: { kind: 'retry' },
      notBefore: '2026-01-15T10:00:02.050Z',
    });
  });

  it('rebuilds the deadline of a wait for a callback', () => {
    const waiting = record({
      waiting: { for: 'callback', service: 'svc-a', until: '2026-01-15T10:00:30.000Z', tokenHash: 'abc' },
    });
    expect(continuationOf(waiting)).toMatchObject({
      seq: 3,
      resume: { kind: 'callback-deadline' },
      notBefore: '2026-01-15T10:00:30.000Z',
    });
  });

  it('rebuilds a message the worker reads back unchanged', () => {
    const waiting = record({ waiting: { for: 'retry', until: '2026-01-15T10:00:02.050Z' } });
    const message = continuationOf(waiting);
    expect(message).toBeDefined();
    expect(parseTaskMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['a succeeded task', { status: 'SUCCEEDED' as const, output: 'done', completedAt: START }],
    ['a failed task', { status: 'FAILED' as const, error: { kind: 'exhausted', message: 'x' } }],
    ['a pending task', { status: 'PENDING' as const }],
    ['a running task waiting for nothing', { status: 'RUNNING' as const }],
  ])('gives nothing for %s', (_, overrides) => {
    expect(continuationOf(record(overrides))).toBeUndefined();
  });

  it('gives nothing for a finished record that still names a wait', () => {
    const finished = record({ status: 'SUCCEEDED', waiting: { for: 'retry', until: START } });
    expect(continuationOf(finished)).toBeUndefined();
  });
});
