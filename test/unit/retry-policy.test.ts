import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/core/errors.ts';
import {
  retryAfterDelaySeconds,
  retryDelaySeconds,
  retryPolicy,
  retrySchedule,
} from '../../lib/core/retry-policy.ts';
import { seededRandom } from './support.ts';

describe('retryPolicy', () => {
  it('fills the defaults', () => {
    expect(retryPolicy()).toEqual({
      backoff: 'exponential',
      maxRetries: 3,
      timeoutSeconds: 30,
      factor: 2,
      jitter: 0,
    });
    expect(retryPolicy({ backoff: 'linear' }).backoff).toBe('linear');
  });

  it.each([
    [{ maxRetries: -1 }, 'maxRetries'],
    [{ maxRetries: 21 }, 'maxRetries'],
    [{ maxRetries: 1.5 }, 'maxRetries'],
    [{ jitter: 1.5 }, 'jitter'],
    [{ factor: 0.5 }, 'factor'],
    [{ baseDelaySeconds: 0 }, 'baseDelaySeconds'],
    [{ timeoutSeconds: -3 }, 'timeoutSeconds'],
    [{ backoff: 'fibonacci' }, 'backoff'],
  ])('rejects %o naming the field %s', (input, field) => {
    expect(() => retryPolicy(input as never)).toThrow(ValidationError);
    expect(() => retryPolicy(input as never)).toThrow(new RegExp(`^${field}: `));
  });

  it('rejects unknown keys', () => {
    expect(() => retryPolicy({ retries: 3 } as never)).toThrow(ValidationError);
  });
});

describe('retryDelaySeconds', () => {
  it('backs off exponentially 1, 2, 4, 8 s by default', () => {
    const policy = retryPolicy({ maxRetries: 4 });
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(policy, n))).toEqual([1, 2, 4, 8]);
    expect(retrySchedule(policy)).toEqual([1, 2, 4, 8]);
  });

  it('backs off linearly 5, 10, 15 s by default', () => {
    const policy = retryPolicy({ backoff: 'linear' });
    expect(retrySchedule(policy)).toEqual([5, 10, 15]);
    expect(retryDelaySeconds(policy, 2)).toBe(10);
  });

  it('honours a custom base and factor', () => {
    expect(retrySchedule(retryPolicy({ baseDelaySeconds: 0.5, factor: 3, maxRetries: 4 }))).toEqual([
      0.5, 1.5, 4.5, 13.5,
    ]);
    expect(retrySchedule(retryPolicy({ backoff: 'linear', baseDelaySeconds: 2, maxRetries: 4 }))).toEqual([
      2, 4, 6, 8,
    ]);
  });

  it('caps every delay at maxDelaySeconds', () => {
    const policy = retryPolicy({ maxRetries: 6, maxDelaySeconds: 10 });
    expect(retrySchedule(policy)).toEqual([1, 2, 4, 8, 10, 10]);
    const linear = retryPolicy({ backoff: 'linear', maxRetries: 4, maxDelaySeconds: 12 });
    expect(retrySchedule(linear)).toEqual([5, 10, 12, 12]);
  });

  it('returns undefined once maxRetries is spent', () => {
    const policy = retryPolicy({ maxRetries: 2 });
    expect(retryDelaySeconds(policy, 2)).toBe(2);
    expect(retryDelaySeconds(policy, 3)).toBeUndefined();
    expect(retryDelaySeconds(policy, 100)).toBeUndefined();
    const never = retryPolicy({ maxRetries: 0 });
    expect(retryDelaySeconds(never, 1)).toBeUndefined();
    expect(retrySchedule(never)).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'throws RangeError for attempt %s',
    (attempt) => {
      expect(() => retryDelaySeconds(retryPolicy(), attempt)).toThrow(RangeError);
      expect(() => retryDelaySeconds(retryPolicy(), attempt)).toThrow(/attempt must be a positive integer/);
    },
  );

  it('gives the same delay whatever the draw when jitter is 0', () => {
    for (const draw of [0, 0.25, 0.5, 0.999_999]) {
      expect(retryDelaySeconds(retryPolicy(), 3, () => draw)).toBe(4);
    }
  });

  it('draws a jittered delay from [(1 - jitter) d, d]', () => {
    const policy = retryPolicy({ maxRetries: 5, jitter: 0.5 });
    expect(retryDelaySeconds(policy, 3, () => 0)).toBe(4);
    expect(retryDelaySeconds(policy, 3, () => 0.5)).toBe(3);
    expect(retryDelaySeconds(policy, 3, () => 0.999_999)).toBeCloseTo(2, 4);
    const full = retryPolicy({ jitter: 1 });
    expect(retryDelaySeconds(full, 2, () => 0.75)).toBeCloseTo(0.5, 10);
  });

  it('keeps jittered delays within bounds for any policy (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          backoff: fc.constantFrom('exponential' as const, 'linear' as const),
          maxRetries: fc.integer({ min: 1, max: 10 }),
          factor: fc.double({ min: 1, max: 4, noNaN: true }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
          maxDelaySeconds: fc.option(fc.double({ min: 0.1, max: 100, noNaN: true }), { nil: undefined }),
        }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer(),
        (input, attempt, seed) => {
          const policy = retryPolicy(input);
          const plain = retryDelaySeconds({ ...policy, jitter: 0 }, attempt);
          const jittered = retryDelaySeconds(policy, attempt, seededRandom(seed));
          if (attempt > policy.maxRetries) {
            expect(plain).toBeUndefined();
            expect(jittered).toBeUndefined();
            return;
          }
          const d = plain as number;
          expect(d).toBeGreaterThan(0);
          if (policy.maxDelaySeconds !== undefined) expect(d).toBeLessThanOrEqual(policy.maxDelaySeconds);
          expect(jittered).toBeLessThanOrEqual(d);
          expect(jittered).toBeGreaterThanOrEqual((1 - policy.jitter) * d - 1e-12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('makes the schedule non-decreasing (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('exponential' as const, 'linear' as const),
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        (backoff, maxRetries, factor) => {
          const schedule = retrySchedule(retryPolicy({ backoff, maxRetries, factor }));
          expect(schedule).toHaveLength(maxRetries);
          for (let i = 1; i < schedule.length; i++) {
            expect(schedule[i]).toBeGreaterThanOrEqual(schedule[i - 1] as number);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('ignores jitter in the schedule shown to people', () => {
    expect(retrySchedule(retryPolicy({ jitter: 1, maxRetries: 3 }))).toEqual([1, 2, 4]);
  });
});

describe('retryAfterDelaySeconds', () => {
  it("is the factory's delay, without jitter, whatever the back-off would be", () => {
    const policy = retryPolicy({ baseDelaySeconds: 2, jitter: 1 });
    expect(retryAfterDelaySeconds(policy, 1, 7)).toBe(7);
    expect(retryAfterDelaySeconds(policy, 3, 0.5)).toBe(0.5);
    expect(retryAfterDelaySeconds(policy, 1, 0)).toBe(0);
  });

  it('is capped by maxDelaySeconds when the policy sets it', () => {
    expect(retryAfterDelaySeconds(retryPolicy({ maxDelaySeconds: 5 }), 1, 7)).toBe(5);
    expect(retryAfterDelaySeconds(retryPolicy({ maxDelaySeconds: 10 }), 1, 7)).toBe(7);
  });

  it('asks for no retry once maxRetries is spent, and checks the attempt like retryDelaySeconds', () => {
    const policy = retryPolicy({ maxRetries: 2 });
    expect(retryAfterDelaySeconds(policy, 2, 7)).toBe(7);
    expect(retryAfterDelaySeconds(policy, 3, 7)).toBeUndefined();
    expect(() => retryAfterDelaySeconds(policy, 0, 7)).toThrow(RangeError);
  });
});
