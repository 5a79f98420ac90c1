import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emptyCounters,
  failureRate,
  LATENCY_BUCKETS_MS,
  latencyBucket,
  latencyQuantileMs,
  meanMs,
  mergeCounters,
  type OutcomeCounters,
  summarizeCounters,
} from '../../lib/core/statistics.ts';

const OVERFLOW = LATENCY_BUCKETS_MS.length;
const LAST_BOUND = LATENCY_BUCKETS_MS[OVERFLOW - 1] as number;

/** Counters for calls with the given latencies; the first `failures` of them failed. */
function countersOf(latencies: readonly number[], failures = 0, timeouts = 0): OutcomeCounters {
  const counters = emptyCounters();
  for (const ms of latencies) {
    const bucket = latencyBucket(ms);
    counters.histogram[bucket] = (counters.histogram[bucket] ?? 0) + 1;
    counters.totalMs += ms;
  }
  counters.count = latencies.length;
  counters.failures = failures;
  counters.successes = latencies.length - failures;
  counters.timeouts = timeouts;
  return counters;
}

/** Nearest-rank quantile of the raw values: the smallest value with at least q of the data at or below it. */
function trueQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(q * sorted.length) - 1] as number;
}

describe('latency buckets', () => {
  it('grow by about sqrt(2) from 10 ms to about an hour', () => {
    expect(LATENCY_BUCKETS_MS).toHaveLength(38);
    expect(LATENCY_BUCKETS_MS.slice(0, 6).map(Math.round)).toEqual([10, 14, 20, 28, 40, 57]);
    expect(Math.round(LAST_BOUND)).toBe(3_707_276);
    expect(LAST_BOUND).toBeGreaterThan(3_600_000);
    for (let i = 1; i < LATENCY_BUCKETS_MS.length; i++) {
      const ratio = (LATENCY_BUCKETS_MS[i] as number) / (LATENCY_BUCKETS_MS[i - 1] as number);
      expect(ratio).toBeGreaterThan(1.39);
      expect(ratio).toBeLessThan(1.43);
    }
  });

  it('has room for every bucket plus the overflow bucket in empty counters', () => {
    const counters = emptyCounters();
    expect(counters.histogram).toHaveLength(OVERFLOW + 1);
    expect(counters.histogram.every((n) => n === 0)).toBe(true);
    expect(counters).toMatchObject({ count: 0, successes: 0, failures: 0, timeouts: 0, totalMs: 0 });
    // each call gets its own arrays
    expect(emptyCounters().histogram).not.toBe(counters.histogram);
  });
});

describe('latencyBucket', () => {
  it.each([
    [0, 0],
    [-5, 0],
    [3, 0],
    [10, 0],
    [10.0001, 1],
    [14, 1],
    [15, 2],
    [20, 2],
    [1_000, 14],
    [LAST_BOUND, OVERFLOW - 1],
    [LAST_BOUND + 1, OVERFLOW],
    [Number.POSITIVE_INFINITY, OVERFLOW],
  ])('puts %s ms in bucket %s', (ms, bucket) => {
    expect(latencyBucket(ms)).toBe(bucket);
  });

  it('puts every latency in the first bucket whose bound is not below it (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 5_000_000, noNaN: true }), (ms) => {
        const i = latencyBucket(ms);
        if (i < OVERFLOW) expect(ms).toBeLessThanOrEqual(LATENCY_BUCKETS_MS[i] as number);
        else expect(ms).toBeGreaterThan(LAST_BOUND);
        if (i > 0) expect(ms).toBeGreaterThan(LATENCY_BUCKETS_MS[i - 1] as number);
      }),
      { numRuns: 500 },
    );
  });

  it('never puts a longer latency in an earlier bucket (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 5_000_000, noNaN: true }),
        fc.double({ min: 0, max: 5_000_000, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(latencyBucket(lo)).toBeLessThanOrEqual(latencyBucket(hi));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('latencyQuantileMs', () => {
  it('is undefined without observations', () => {
    expect(latencyQuantileMs(emptyCounters())).toBeUndefined();
  });

  it('reads the p95 of a known distribution from the histogram', () => {
    // 1 s, 2 s, ... 100 s: the true p95 is 95 s, which lies in the bucket (81 920, 115 852]
    const latencies = Array.from({ length: 100 }, (_, i) => (i + 1) * 1_000);
    const counters = countersOf(latencies);
    expect(trueQuantile(latencies, 0.95)).toBe(95_000);
    expect(Math.round(latencyQuantileMs(counters) as number)).toBe(115_852);
    expect(Math.round(latencyQuantileMs(counters, 0.5) as number)).toBe(57_926); // true median 50 s
    expect(Math.round(latencyQuantileMs(counters, 1) as number)).toBe(115_852); // max 100 s
    expect(Math.round(latencyQuantileMs(counters, 0.01) as number)).toBe(1_280); // min 1 s
  });

  it('uses the nearest rank: 19 fast calls and 1 slow one have a fast p95', () => {
    const counters = countersOf([...new Array(19).fill(100), 50_000]);
    expect(Math.round(latencyQuantileMs(counters, 0.95) as number)).toBe(113);
    expect(Math.round(latencyQuantileMs(counters, 0.96) as number)).toBe(57_926);
  });

  it('returns infinity when the quantile falls in the overflow bucket', () => {
    expect(latencyQuantileMs(countersOf([LAST_BOUND + 1]))).toBe(Number.POSITIVE_INFINITY);
    expect(latencyQuantileMs(countersOf([10, 10, 10, 10_000_000]), 0.5)).toBe(10);
  });

  it('gives an upper bound within a factor of about sqrt(2) of the true p95 (property)', () => {
    const latency = fc
      .double({ min: Math.log(10), max: Math.log(LAST_BOUND), noNaN: true })
      .map((x) => Math.min(LAST_BOUND, Math.max(10, Math.exp(x))));
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 1, maxLength: 200 }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99),
        (latencies, q) => {
          const truth = trueQuantile(latencies, q);
          const read = latencyQuantileMs(countersOf(latencies), q) as number;
          expect(read).toBeGreaterThanOrEqual(truth);
          expect(read / truth).toBeLessThanOrEqual(Math.SQRT2 * (1 + 1e-12));
          // exactly the bound of the bucket that holds the true quantile
          expect(read).toBe(LATENCY_BUCKETS_MS[latencyBucket(truth)]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('mergeCounters', () => {
  it('sums every counter and every histogram bucket', () => {
    const a = countersOf([5, 100, 2_000], 1, 1);
    const b = countersOf([100, 10_000_000], 2, 0);
    const merged = mergeCounters([a, b]);
    expect(merged.count).toBe(5);
    expect(merged.successes).toBe(2);
    expect(merged.failures).toBe(3);
    expect(merged.timeouts).toBe(1);
    expect(merged.totalMs).toBe(5 + 100 + 2_000 + 100 + 10_000_000);
    expect(merged.histogram[latencyBucket(100)]).toBe(2);
    expect(merged.histogram[0]).toBe(1);
    expect(merged.histogram[OVERFLOW]).toBe(1);
    expect(merged.histogram.reduce((x, y) => x + y, 0)).toBe(5);
  });

  it('gives empty counters for nothing, and does not alias or mutate its inputs', () => {
    expect(mergeCounters([])).toEqual(emptyCounters());
    const a = countersOf([100]);
    const snapshot = structuredClone(a);
    const merged = mergeCounters([a]);
    expect(merged).toEqual(a);
    expect(merged).not.toBe(a);
    expect(merged.histogram).not.toBe(a.histogram);
    merged.histogram[0] = 99;
    expect(a).toEqual(snapshot);
  });

  it('keeps buckets beyond the current length (an older, longer histogram)', () => {
    const long = { ...emptyCounters(), histogram: [...emptyCounters().histogram, 4] };
    expect(mergeCounters([long]).histogram[OVERFLOW + 1]).toBe(4);
  });

  it('is the same however the calls are split (property)', () => {
    const latency = fc.double({ min: 0, max: 5_000_000, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.array(latency, { maxLength: 20 }), { maxLength: 6 }), (groups) => {
        const merged = mergeCounters(groups.map((g) => countersOf(g)));
        const whole = countersOf(groups.flat());
        expect(merged.count).toBe(whole.count);
        expect(merged.successes).toBe(whole.successes);
        expect(merged.histogram).toEqual(whole.histogram);
        expect(merged.totalMs).toBeCloseTo(whole.totalMs, 0);
      }),
      { numRuns: 150 },
    );
  });
});

describe('derived figures', () => {
  it('meanMs and failureRate are undefined without calls', () => {
    expect(meanMs(emptyCounters())).toBeUndefined();
    expect(failureRate(emptyCounters())).toBeUndefined();
  });

  it('meanMs and failureRate divide by the call count', () => {
    const counters = countersOf([100, 200, 600], 1);
    expect(meanMs(counters)).toBe(300);
    expect(failureRate(counters)).toBeCloseTo(1 / 3, 12);
  });

  it('summarizeCounters gives a readable digest', () => {
    expect(summarizeCounters(countersOf([100, 200, 300, 400], 1, 1))).toEqual({
      count: 4,
      successes: 3,
      failures: 1,
      timeouts: 1,
      successRate: 0.75,
      meanMs: 250,
      p95Ms: 453,
    });
    expect(summarizeCounters(emptyCounters())).toEqual({
      count: 0,
      successes: 0,
      failures: 0,
      timeouts: 0,
      successRate: undefined,
      meanMs: undefined,
      p95Ms: undefined,
    });
  });
});
