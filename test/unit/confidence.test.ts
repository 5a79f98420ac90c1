import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIDENCE_PRIOR, confidenceFrom, sampleBeta } from '../../lib/core/confidence.ts';
import { seededRandom } from './support.ts';

describe('confidenceFrom', () => {
  it('is 0.7 with no history', () => {
    expect(confidenceFrom(undefined)).toBe(0.7);
    expect(confidenceFrom({ successes: 0, failures: 0 })).toBe(0.7);
    expect(CONFIDENCE_PRIOR.alpha / (CONFIDENCE_PRIOR.alpha + CONFIDENCE_PRIOR.beta)).toBeCloseTo(0.7, 12);
  });

  it('reaches 0.95 after ten successes in a row', () => {
    expect(confidenceFrom({ successes: 10, failures: 0 })).toBe(0.95);
  });

  it('rises strictly with every consecutive success', () => {
    let previous = confidenceFrom(undefined);
    for (let n = 1; n <= 30; n++) {
      const next = confidenceFrom({ successes: n, failures: 0 });
      expect(next).toBeGreaterThan(previous);
      expect(next).toBeLessThan(1);
      previous = next;
    }
  });

  it('falls strictly with every consecutive failure', () => {
    let previous = confidenceFrom(undefined);
    for (let n = 1; n <= 30; n++) {
      const next = confidenceFrom({ successes: 0, failures: n });
      expect(next).toBeLessThan(previous);
      expect(next).toBeGreaterThan(0);
      previous = next;
    }
    expect(confidenceFrom({ successes: 0, failures: 1 })).toBe(0.4667);
  });

  it('converges to the observed rate for a service that succeeds half the time', () => {
    expect(confidenceFrom({ successes: 5_000, failures: 5_000 })).toBeCloseTo(0.5, 3);
    expect(confidenceFrom({ successes: 9_000, failures: 1_000 })).toBeCloseTo(0.9, 3);
  });

  it('is rounded to four decimals', () => {
    const value = confidenceFrom({ successes: 3, failures: 2 });
    expect(value).toBe(0.6286); // 4.4 / 7 = 0.628571...
    expect(value).not.toBe(4.4 / 7);
  });

  it('moves with the evidence: one more success never lowers it, one more failure never raises it (property)', () => {
    fc.assert(
      fc.property(fc.nat(1_000), fc.nat(1_000), (successes, failures) => {
        const c = confidenceFrom({ successes, failures });
        expect(c).toBeGreaterThan(0);
        expect(c).toBeLessThan(1);
        expect(confidenceFrom({ successes: successes + 1, failures })).toBeGreaterThanOrEqual(c);
        expect(confidenceFrom({ successes, failures: failures + 1 })).toBeLessThanOrEqual(c);
      }),
      { numRuns: 300 },
    );
  });
});

describe('sampleBeta', () => {
  it.each([
    [1, 1],
    [2, 5],
    [5, 2],
    [0.5, 0.5],
    [0.3, 2],
    [51, 51],
    [96, 6],
    [1.5, 30],
    [20, 3.5],
    [45, 40],
  ])('Beta(%s, %s) draws lie in (0, 1) and average near alpha / (alpha + beta)', (alpha, beta) => {
    const random = seededRandom(alpha * 1_000 + beta);
    const n = 4_000;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const x = sampleBeta(alpha, beta, random);
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    const mean = alpha / (alpha + beta);
    const sd = Math.sqrt((alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1)));
    // 6 standard errors of the mean, and at least 0.02: generous, yet catches a wrong distribution
    expect(Math.abs(sum / n - mean)).toBeLessThan(Math.max(0.02, (6 * sd) / Math.sqrt(n)));
  });

  it.each([
    [2, 2],
    [0.5, 0.5],
    [3, 12],
    [12, 3],
    [1.2, 1.2],
    [60, 80],
  ])('Beta(%s, %s) draws have the right spread, not only the right mean', (alpha, beta) => {
    const random = seededRandom(alpha * 7 + beta);
    const draws = Array.from({ length: 8_000 }, () => sampleBeta(alpha, beta, random));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    const expected = (alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1));
    // within 10 %: the sample variance of 8,000 draws is that close for these shapes
    expect(variance / expected).toBeGreaterThan(0.9);
    expect(variance / expected).toBeLessThan(1.1);
  });

  it('puts the mass of a skewed Beta where it belongs (its quartiles)', () => {
    // Beta(2, 8): P(X <= 0.1) = 0.2252, P(X <= 0.3) = 0.8040
    const random = seededRandom(11);
    const n = 8_000;
    const draws = Array.from({ length: n }, () => sampleBeta(2, 8, random));
    // 0.015 is more than three standard errors of a share of 8,000 draws
    expect(Math.abs(draws.filter((x) => x <= 0.1).length / n - 0.2252)).toBeLessThan(0.015);
    expect(Math.abs(draws.filter((x) => x <= 0.3).length / n - 0.804)).toBeLessThan(0.015);
  });

  it('is reproducible with the same seed and differs with another', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          sampleBeta(3, 4, r)
      )(seededRandom(1)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          sampleBeta(3, 4, r)
      )(seededRandom(1)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          sampleBeta(3, 4, r)
      )(seededRandom(2)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('survives a uniform source that returns 0 (log of 0 is avoided)', () => {
    const inner = seededRandom(3);
    let i = 0;
    const withZeros = () => (i++ % 3 === 0 ? 0 : inner());
    for (let k = 0; k < 200; k++) {
      const x = sampleBeta(1.5, 0.7, withZeros);
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(1);
    }
  });
});
