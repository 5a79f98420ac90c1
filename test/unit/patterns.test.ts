import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PATTERN_MIN_LOWER_BOUND,
  PATTERN_MIN_SUPPORT,
  type PatternCounters,
  successPatterns,
  wilsonLowerBound,
} from '../../lib/core/patterns.ts';

const counters = (key: string, successes: number, total: number, taskType = 'email_campaign') =>
  ({ taskType, key, successes, total }) satisfies PatternCounters;

describe('wilsonLowerBound', () => {
  it('is 0 without evidence', () => {
    expect(wilsonLowerBound(0, 0)).toBe(0);
  });

  it('matches known values of the 95 % Wilson interval', () => {
    expect(wilsonLowerBound(3, 3)).toBeCloseTo(0.4385, 4);
    expect(wilsonLowerBound(4, 4)).toBeCloseTo(0.5101, 4);
    expect(wilsonLowerBound(50, 100)).toBeCloseTo(0.4038, 4);
    expect(wilsonLowerBound(90, 100)).toBeCloseTo(0.8256, 4);
    expect(wilsonLowerBound(0, 5)).toBeCloseTo(0, 10);
  });

  it('is cautious with little evidence: the same rate on more calls gives a higher bound', () => {
    expect(wilsonLowerBound(8, 10)).toBeLessThan(wilsonLowerBound(80, 100));
    expect(wilsonLowerBound(80, 100)).toBeLessThan(wilsonLowerBound(800, 1_000));
  });

  it('widens with a larger z', () => {
    expect(wilsonLowerBound(8, 10, 2.58)).toBeLessThan(wilsonLowerBound(8, 10, 1.96));
    expect(wilsonLowerBound(8, 10, 0)).toBeCloseTo(0.8, 12);
  });

  it('lies between 0 and the observed rate, and grows with successes (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 10_000 })
          .chain((total) => fc.tuple(fc.constant(total), fc.integer({ min: 0, max: total }))),
        ([total, successes]) => {
          const bound = wilsonLowerBound(successes, total);
          expect(bound).toBeGreaterThanOrEqual(-1e-12);
          expect(bound).toBeLessThanOrEqual(successes / total + 1e-12);
          if (successes < total) {
            expect(wilsonLowerBound(successes + 1, total)).toBeGreaterThan(bound);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('successPatterns', () => {
  it('keeps features with enough support and a high enough lower bound, best first', () => {
    const patterns = successPatterns([
      counters('service:a', 10, 10),
      counters('hour:09', 90, 100),
      counters('param:lang=en', 18, 20),
      counters('param:tone=formal', 2, 2), // too little support
      counters('service:b', 5, 10), // not reliable enough
    ]);
    expect(patterns).toEqual([
      {
        taskType: 'email_campaign',
        key: 'hour:09',
        total: 100,
        successes: 90,
        kind: 'hour',
        successRate: 0.9,
        successLowerBound: 0.8256,
      },
      {
        taskType: 'email_campaign',
        key: 'service:a',
        total: 10,
        successes: 10,
        kind: 'service',
        successRate: 1,
        successLowerBound: 0.7225,
      },
      {
        taskType: 'email_campaign',
        key: 'param:lang=en',
        total: 20,
        successes: 18,
        kind: 'param',
        successRate: 0.9,
        successLowerBound: 0.699,
      },
    ]);
  });

  it('needs the minimum support and lower bound', () => {
    expect(PATTERN_MIN_SUPPORT).toBe(3);
    expect(PATTERN_MIN_LOWER_BOUND).toBe(0.5);
    // three successes out of three are not yet enough evidence; four out of four are
    expect(successPatterns([counters('service:a', 3, 3)])).toEqual([]);
    expect(successPatterns([counters('service:a', 4, 4)]).map((p) => p.key)).toEqual(['service:a']);
    // below the support threshold nothing is reported, whatever the rate
    expect(successPatterns([counters('service:a', 2, 2)])).toEqual([]);
  });

  it('reads the kind from the key prefix, even when the value contains a colon', () => {
    const [pattern] = successPatterns([counters('param:url=http://x', 40, 40)]);
    expect(pattern?.kind).toBe('param');
    expect(pattern?.key).toBe('param:url=http://x');
  });

  it('returns nothing for nothing', () => {
    expect(successPatterns([])).toEqual([]);
  });

  it('only returns qualifying features, sorted by lower bound (property)', () => {
    const item = fc
      .record({
        key: fc.constantFrom('service:a', 'service:b', 'hour:01', 'param:x=1'),
        total: fc.integer({ min: 0, max: 200 }),
        share: fc.double({ min: 0, max: 1, noNaN: true }),
      })
      .map(({ key, total, share }) => counters(key, Math.round(total * share), total));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), (input) => {
        const patterns = successPatterns(input);
        for (const p of patterns) {
          expect(p.total).toBeGreaterThanOrEqual(PATTERN_MIN_SUPPORT);
          expect(p.successLowerBound).toBeGreaterThanOrEqual(PATTERN_MIN_LOWER_BOUND);
          expect(p.successLowerBound).toBeLessThanOrEqual(p.successRate);
        }
        for (let i = 1; i < patterns.length; i++) {
          const prev = patterns[i - 1] as (typeof patterns)[number];
          const cur = patterns[i] as (typeof patterns)[number];
          expect(prev.successLowerBound).toBeGreaterThanOrEqual(cur.successLowerBound);
          if (prev.successLowerBound === cur.successLowerBound) {
            expect(prev.total).toBeGreaterThanOrEqual(cur.total);
          }
        }
        const qualifying = input.filter(
          (c) =>
            c.total >= PATTERN_MIN_SUPPORT &&
            Math.round(wilsonLowerBound(c.successes, c.total) * 10_000) / 10_000 >= PATTERN_MIN_LOWER_BOUND,
        );
        expect(patterns).toHaveLength(qualifying.length);
      }),
      { numRuns: 200 },
    );
  });
});
