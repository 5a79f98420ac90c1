import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MULTIPLIER,
  DEFAULT_TYPE_MULTIPLIERS,
  PRIORITY_LEVELS,
  type Priority,
  prioritize,
  priorityScore,
} from '../../lib/core/priority.ts';
import { validationError } from '../helpers/errors.ts';

const SEED_TASKS = [
  { type: 'email_campaign', priority: 'normal' },
  { type: 'fraud_detection', priority: 'high' },
  { type: 'video_generation', priority: 'high' },
  { type: 'finance', priority: 'critical' },
] as const;

describe('priorityScore', () => {
  it('scores the seed example 2.0 / 4.5 / 2.4 / 6.0', () => {
    expect(SEED_TASKS.map((t) => priorityScore(t))).toEqual([2.0, 4.5, 2.4, 6.0]);
  });

  it('rounds away floating-point noise (3 x 0.8 is exactly 2.4)', () => {
    expect(priorityScore({ type: 'video_generation', priority: 'high' })).toBe(2.4);
    expect(3 * 0.8).not.toBe(2.4);
  });

  it('uses the priority levels critical 4, high 3, normal 2, low 1', () => {
    expect(PRIORITY_LEVELS).toEqual({ critical: 4, high: 3, normal: 2, low: 1 });
    for (const [level, base] of Object.entries(PRIORITY_LEVELS)) {
      expect(priorityScore({ type: 'email_campaign', priority: level as Priority })).toBe(base);
    }
  });

  it('treats a missing priority as normal', () => {
    expect(priorityScore({ type: 'finance' })).toBe(3);
    expect(priorityScore({ type: 'finance', priority: undefined })).toBe(3);
  });

  it('uses the multiplier 1.0 for a type it does not know', () => {
    expect(DEFAULT_MULTIPLIER).toBe(1);
    expect(DEFAULT_TYPE_MULTIPLIERS.sentiment_analysis).toBeUndefined();
    expect(priorityScore({ type: 'sentiment_analysis', priority: 'high' })).toBe(3);
    expect(priorityScore({ type: 'sentiment_analysis', priority: 'low' })).toBe(1);
  });

  it('applies the default multipliers', () => {
    expect(priorityScore({ type: 'crypto_prediction', priority: 'high' })).toBe(3.6);
    expect(priorityScore({ type: 'fraud_detection', priority: 'low' })).toBe(1.5);
    expect(priorityScore({ type: 'video_generation', priority: 'critical' })).toBe(3.2);
  });

  it('uses custom multipliers instead of the defaults', () => {
    const custom = { email_campaign: 3, video_generation: 0.25 };
    expect(priorityScore({ type: 'email_campaign', priority: 'normal' }, custom)).toBe(6);
    expect(priorityScore({ type: 'video_generation', priority: 'critical' }, custom)).toBe(1);
    // finance is not in the custom table, so it falls back to 1.0
    expect(priorityScore({ type: 'finance', priority: 'critical' }, custom)).toBe(4);
  });

  it('keeps the default table frozen', () => {
    expect(Object.isFrozen(DEFAULT_TYPE_MULTIPLIERS)).toBe(true);
  });
});

describe('prioritize', () => {
  it('orders the seed example finance, fraud_detection, video_generation, email_campaign', () => {
    const ordered = prioritize(SEED_TASKS);
    expect(ordered.map((t) => t.type)).toEqual([
      'finance',
      'fraud_detection',
      'video_generation',
      'email_campaign',
    ]);
    expect(ordered.map((t) => t.priorityScore)).toEqual([6.0, 4.5, 2.4, 2.0]);
  });

  it('keeps the other fields of each task and does not mutate the input', () => {
    const tasks = [
      { id: 'a', type: 'email_campaign', priority: 'low' as const, payload: { to: 'x' } },
      { id: 'b', type: 'finance', priority: 'high' as const, payload: { amount: 3 } },
    ];
    const snapshot = structuredClone(tasks);
    const ordered = prioritize(tasks);
    expect(ordered).toEqual([
      { id: 'b', type: 'finance', priority: 'high', payload: { amount: 3 }, priorityScore: 4.5 },
      { id: 'a', type: 'email_campaign', priority: 'low', payload: { to: 'x' }, priorityScore: 1 },
    ]);
    expect(tasks).toEqual(snapshot);
    expect(ordered[0]).not.toBe(tasks[1]);
  });

  it('keeps input order among equal scores (first come, first served)', () => {
    const tasks = [
      { id: '1', type: 'email_campaign', priority: 'high' as const }, // 3
      { id: '2', type: 'unknown_type', priority: 'high' as const }, // 3
      { id: '3', type: 'finance', priority: 'normal' as const }, // 3
      { id: '4', type: 'fraud_detection', priority: 'critical' as const }, // 6
      { id: '5', type: 'email_campaign', priority: 'high' as const }, // 3
    ];
    expect(prioritize(tasks).map((t) => t.id)).toEqual(['4', '1', '2', '3', '5']);
  });

  it('returns an empty list for an empty batch', () => {
    expect(prioritize([])).toEqual([]);
  });

  it('orders with custom multipliers', () => {
    const ordered = prioritize(SEED_TASKS, { email_campaign: 5, finance: 0.5 });
    // email 2 x 5 = 10, fraud 3 x 1 = 3, video 3 x 1 = 3, finance 4 x 0.5 = 2
    expect(ordered.map((t) => [t.type, t.priorityScore])).toEqual([
      ['email_campaign', 10],
      ['fraud_detection', 3],
      ['video_generation', 3],
      ['finance', 2],
    ]);
  });

  it('is a stable sort of the input by non-increasing score (property)', () => {
    const types = [
      'email_campaign',
      'fraud_detection',
      'video_generation',
      'finance',
      'crypto_prediction',
      'image_generation',
      'x1',
    ];
    const taskArb = fc.record(
      {
        type: fc.constantFrom(...types),
        priority: fc.constantFrom<Priority>('critical', 'high', 'normal', 'low'),
      },
      { requiredKeys: ['type'] },
    );
    fc.assert(
      fc.property(fc.array(taskArb, { maxLength: 30 }), (raw) => {
        const tasks = raw.map((t, index) => ({ ...t, index }));
        const ordered = prioritize(tasks);
        // a permutation of the input
        expect(ordered.map((t) => t.index).sort((a, b) => a - b)).toEqual(tasks.map((t) => t.index));
        for (const t of ordered) expect(t.priorityScore).toBe(priorityScore(t));
        for (let i = 1; i < ordered.length; i++) {
          const prev = ordered[i - 1] as (typeof ordered)[number];
          const cur = ordered[i] as (typeof ordered)[number];
          expect(prev.priorityScore).toBeGreaterThanOrEqual(cur.priorityScore);
          if (prev.priorityScore === cur.priorityScore) expect(prev.index).toBeLessThan(cur.index);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a task without a valid type, naming the field', () => {
    const error = validationError(() => prioritize([{ type: 'finance' }, { type: '' }]));
    // paths name the list and the element: tasks, element 1, field `type`
    expect(error.issues[0]).toEqual({ field: 'tasks.1.type', message: 'must not be empty' });
    expect(error.message.startsWith('tasks.1.type: must not be empty')).toBe(true);
  });

  it('rejects a type with characters not allowed in keys', () => {
    const error = validationError(() => prioritize([{ type: 'bad#type' }]));
    expect(error.issues.map((i) => i.field)).toEqual(['tasks.0.type']);
    expect(error.message).toMatch(/^tasks\.0\.type: may contain only/);
  });

  it('rejects an unknown priority, naming the field', () => {
    const error = validationError(() =>
      prioritize([{ type: 'finance', priority: 'urgent' as unknown as Priority }]),
    );
    expect(error.issues.map((i) => i.field)).toEqual(['tasks.0.priority']);
    expect(error.message).toContain('0.priority: ');
  });

  it('rejects input that is not a list, naming it', () => {
    const error = validationError(() => prioritize('finance' as unknown as []));
    expect(error.issues.map((i) => i.field)).toEqual(['tasks']);
    expect(error.message.startsWith('tasks: ')).toBe(true);
  });

  it('rejects invalid multipliers, naming the entry', () => {
    const negative = validationError(() => prioritize(SEED_TASKS, { finance: -1 }));
    expect(negative.issues.map((i) => i.field)).toEqual(['finance']);
    const huge = validationError(() => prioritize(SEED_TASKS, { finance: 101 }));
    expect(huge.message).toMatch(/^finance: /);
    const zero = validationError(() => prioritize(SEED_TASKS, { finance: 0 }));
    expect(zero.message).toMatch(/^finance: /);
    const notAnObject = validationError(() => prioritize(SEED_TASKS, 3 as unknown as Record<string, number>));
    expect(notAnObject.issues.map((i) => i.field)).toEqual(['multipliers']);
  });

  it('rejects a multiplier for a type that is not an identifier', () => {
    const error = validationError(() => prioritize(SEED_TASKS, { 'bad key': 2 }));
    expect(error.message).toContain('bad key');
  });

  it('reports every bad field at once', () => {
    const error = validationError(() =>
      prioritize([{ type: '' }, { type: 'ok', priority: 'soon' as unknown as Priority }]),
    );
    expect([...new Set(error.issues.map((i) => i.field))].sort()).toEqual([
      'tasks.0.type',
      'tasks.1.priority',
    ]);
    expect(error.message).toContain('; ');
  });
});

describe('task types named like Object methods', () => {
  it('score with the default multiplier, not an inherited function', () => {
    const ordered = prioritize([
      { type: 'email_campaign' },
      { type: 'toString', priority: 'critical' },
      { type: 'finance', priority: 'high' },
    ]);
    expect(ordered.map((t) => [t.type, t.priorityScore])).toEqual([
      ['finance', 4.5],
      ['toString', 4],
      ['email_campaign', 2],
    ]);
    expect(priorityScore({ type: 'constructor' })).toBe(2);
  });
});
