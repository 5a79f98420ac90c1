import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/core/errors.ts';
import { LIMITS } from '../../lib/core/limits.ts';
import type { TaskResultInput } from '../../lib/core/task-result.ts';
import { rejection } from '../helpers/errors.ts';
import { backends, createStack, manualClock } from '../helpers/stack.ts';

/**
 * Results completed an hour ago, one second apart: recent enough that the 90-day retention (a
 * TTL, which DynamoDB Local applies) keeps them.
 */
const BASE = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;

function result(i: number, overrides: Partial<TaskResultInput> = {}): TaskResultInput {
  return {
    taskId: `task-${i}`,
    taskType: 'email_campaign',
    service: 'email-ai',
    success: true,
    executionMs: 100 + i,
    completedAt: new Date(BASE + i * 1_000).toISOString(),
    parameters: { audience: 'customers' },
    ...overrides,
  };
}

describe.each(backends())('memory on $kind', (backend) => {
  it('stores a result once: a repeated delivery records nothing and counts nothing', async () => {
    const { orchestrator } = await createStack(backend);
    const { memory } = orchestrator;
    expect((await memory.storeTaskResult(result(1))).recorded).toBe(true);
    expect((await memory.storeTaskResult(result(1, { executionMs: 9_999 }))).recorded).toBe(false);
    const stats = await memory.statistics('email_campaign');
    expect(stats.overall.count).toBe(1);
    expect((await memory.getResult('task-1')).executionMs).toBe(101);
  });

  it('keeps the 100 most recent results in the short-term window, newest first', async () => {
    const { orchestrator } = await createStack(backend);
    for (let i = 0; i < 120; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) => orchestrator.memory.storeTaskResult(result(i + j))),
      );
    }
    const window = await orchestrator.memory.shortTerm();
    expect(window).toHaveLength(100);
    expect(window[0]?.taskId).toBe('task-119');
    expect(window[99]?.taskId).toBe('task-20');
    expect((await orchestrator.memory.summary()).shortTermCount).toBe(100);
  });

  it('answers relevant memories by task type, newest first', async () => {
    const { orchestrator } = await createStack(backend);
    await orchestrator.memory.storeTaskResult(result(1));
    await orchestrator.memory.storeTaskResult(result(2, { taskType: 'finance', service: 'finance-ai' }));
    await orchestrator.memory.storeTaskResult(result(3));
    // Results are listed through an index, which DynamoDB keeps eventually consistent.
    await expect
      .poll(async () =>
        (await orchestrator.memory.relevantMemories('email_campaign', 10)).map((m) => m.taskId),
      )
      .toEqual(['task-3', 'task-1']);
  });

  it('keeps long-term statistics per task type and per service', async () => {
    const { orchestrator } = await createStack(backend);
    const outcomes = [
      result(1, { service: 'a', executionMs: 100 }),
      result(2, { service: 'a', executionMs: 300 }),
      result(3, {
        service: 'b',
        success: false,
        executionMs: 5_000,
        error: { kind: 'timeout', message: 'no answer' },
      }),
    ];
    for (const r of outcomes) await orchestrator.memory.storeTaskResult(r);
    const stats = await orchestrator.memory.statistics('email_campaign');
    expect(stats.overall).toMatchObject({ count: 3, successes: 2, failures: 1, timeouts: 1 });
    expect(stats.overall.meanMs).toBeCloseTo(1_800, 5);
    const a = stats.services.find((s) => s.service === 'a');
    expect(a).toMatchObject({ count: 2, successes: 2, meanMs: 200 });
    // p95 is the upper bound of a sqrt(2)-wide histogram bucket.
    expect(a?.p95Ms).toBeGreaterThanOrEqual(300);
    expect(a?.p95Ms).toBeLessThanOrEqual(300 * Math.SQRT2);
  });

  it('learns success patterns: the service, hour and parameters that go with success', async () => {
    const { orchestrator } = await createStack(backend);
    for (let i = 0; i < 6; i++) {
      await orchestrator.memory.storeTaskResult(
        result(i, { parameters: { audience: 'customers', tone: 'warm' } }),
      );
    }
    for (let i = 6; i < 12; i++) {
      await orchestrator.memory.storeTaskResult(
        result(i, {
          success: false,
          parameters: { tone: 'cold' },
          error: { kind: 'error', message: 'bounced' },
        }),
      );
    }
    // Service and hour come from the call counters at once; parameters from the finished tasks,
    // which the scheduled roll-up reads (through an eventually consistent index).
    const early = (await orchestrator.memory.successPatterns('email_campaign')).map((p) => p.key);
    expect(early).not.toContain('param:tone=warm');
    await expect
      .poll(async () => {
        await orchestrator.rollUp();
        return (await orchestrator.memory.successPatterns('email_campaign')).map((p) => p.key);
      })
      .toContain('param:tone=warm');
    const patterns = await orchestrator.memory.successPatterns('email_campaign');
    const keys = patterns.map((p) => p.key);
    expect(keys).toContain('param:tone=warm');
    expect(keys).toContain('param:audience=customers');
    expect(keys).not.toContain('param:tone=cold');
    expect(patterns.find((p) => p.key === 'param:tone=warm')).toMatchObject({
      total: 6,
      successes: 6,
      successRate: 1,
    });
    expect((await orchestrator.memory.summary()).patternsLearned).toBe(patterns.length);
  });

  it('refuses a result too large to store inline, and stores nothing of it', async () => {
    const { orchestrator, doc, tables } = await createStack(backend);
    // Just over the inline limit: a larger output is stored as an artifact and passed by reference.
    const big = result(1, { output: 'x'.repeat(LIMITS.inlineOutput.bytes - 1) });
    await expect(orchestrator.memory.storeTaskResult(big)).rejects.toThrow(
      /output: an output kept inline .*: 65537 bytes is over the limit of 65536 bytes/,
    );
    const { Item } = await doc.send(
      new GetCommand({ TableName: tables.memory, Key: { pk: 'TASK#task-1', sk: 'TASK' } }),
    );
    expect(Item).toBeUndefined();
    expect((await orchestrator.memory.statistics('email_campaign')).overall.count).toBe(0);
  });

  it('rejects malformed results with the field named, and writes nothing', async () => {
    const { orchestrator } = await createStack(backend);
    const attempts: Array<[unknown, RegExp]> = [
      [{ ...result(1), executionMs: -1 }, /executionMs/],
      [{ ...result(1), taskId: '' }, /taskId/],
      [{ ...result(1), success: false }, /error: a failed result must say why/],
      [{ ...result(1), completedAt: 'yesterday' }, /completedAt/],
      [{ ...result(1), extra: true }, /extra/],
    ];
    for (const [input, message] of attempts) {
      const error = await rejection(
        orchestrator.memory.storeTaskResult(input as TaskResultInput),
        ValidationError,
      );
      expect(error.message).toMatch(message);
    }
    expect(await orchestrator.memory.shortTerm()).toEqual([]);
    await expect(orchestrator.memory.getResult('task-1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates, reads, updates and expires named contexts', async () => {
    const clock = manualClock();
    const { orchestrator } = await createStack(backend, { now: clock.now });
    const { memory } = orchestrator;
    await memory.createContext('campaign_2024', {
      campaign_name: 'Q1 Launch',
      target_audience: 'tech_enthusiasts',
    });
    await expect(memory.createContext('campaign_2024', {})).rejects.toBeInstanceOf(ConflictError);
    expect((await memory.getContext('campaign_2024')).data.campaign_name).toBe('Q1 Launch');

    const updated = await memory.updateContext('campaign_2024', { budget: 5_000 });
    expect(updated).toMatchObject({ version: 2, data: { campaign_name: 'Q1 Launch', budget: 5_000 } });
    await expect(
      memory.updateContext('campaign_2024', { budget: 1 }, { expectedVersion: 1 }),
    ).rejects.toThrow(/version 2, not 1/);

    await memory.createContext('short_lived', { a: 1 }, { ttlSeconds: 60 });
    clock.advance(61_000);
    await expect(memory.getContext('short_lived')).rejects.toBeInstanceOf(NotFoundError);
    // An expired context's name can be reused.
    await memory.createContext('short_lived', { a: 2 });
    expect((await memory.getContext('short_lived')).data.a).toBe(2);

    await memory.expireContext('campaign_2024');
    await expect(memory.getContext('campaign_2024')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lands every concurrent context update when no version is demanded', async () => {
    const { orchestrator } = await createStack(backend);
    await orchestrator.memory.createContext('shared', {});
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => orchestrator.memory.updateContext('shared', { [`k${i}`]: i })),
    );
    const context = await orchestrator.memory.getContext('shared');
    expect(Object.keys(context.data)).toHaveLength(10);
    expect(context.version).toBe(11);
  });
});
