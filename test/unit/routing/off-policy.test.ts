import { describe, expect, it } from 'vitest';
import {
  ESTIMATORS,
  type LoggedDecision,
  normalQuantile,
  offPolicyEstimate,
  type TargetProbabilities,
  weightedQuantile,
} from '../../../lib/core/routing/off-policy.ts';
import { seeded } from '../workflow/support.ts';

const decision = (
  chosen: string,
  propensity: number,
  success: boolean,
  extra: Partial<LoggedDecision['outcome']> & { taskType?: string; candidates?: string[] } = {},
): LoggedDecision => {
  const { taskType = 'x', candidates = ['a', 'b'], ...outcome } = extra;
  return { taskType, candidates, chosen, propensity, outcome: { success, ...outcome } };
};

/** The name that u, uniform in [0, 1), falls on when [0, 1) is cut into these probabilities. */
function pick(probabilities: Record<string, number>, u: number): string {
  const names = Object.keys(probabilities);
  let left = u;
  for (const name of names) {
    left -= probabilities[name] as number;
    if (left < 0) return name;
  }
  return names.at(-1) as string;
}

/** Four decisions between `a` and `b`, evaluated for a policy that picks `a` 3 times in 4. */
const four = [
  decision('a', 0.5, true, { costUsd: 1, latencyMs: 100 }),
  decision('b', 0.5, false, { costUsd: 3, latencyMs: 300 }),
  decision('a', 0.8, true, { costUsd: 2, latencyMs: 200 }),
  decision('b', 0.2, true, { costUsd: 4, latencyMs: 400 }),
];
const threeInFour: TargetProbabilities = () => ({ a: 0.75, b: 0.25 });
// Weights w = pi(chosen) / propensity: 0.75/0.5, 0.25/0.5, 0.75/0.8, 0.25/0.2.
const w = [1.5, 0.5, 0.9375, 1.25];
const sumW = 4.1875;

describe('offPolicyEstimate on a hand-computed example', () => {
  it('IPS: the mean of w r, with the standard error of those terms', () => {
    const result = offPolicyEstimate(four, threeInFour, { estimator: 'ips' });
    // w r = 1.5, 0, 0.9375, 1.25: mean 0.921875; deviations 0.578125, -0.921875, 0.015625, 0.328125
    // give a sample variance of 1.2919921875 / 3, so a standard error of sqrt(0.4306640625 / 4) = 0.328125.
    expect(result.successRate?.estimate).toBeCloseTo(0.921875, 12);
    expect(result.successRate?.low).toBeCloseTo(0.921875 - 1.959964 * 0.328125, 5);
    expect(result.successRate?.high).toBe(1);
    // w c = 1.5, 1.5, 1.875, 5.
    expect(result.meanCostUsd?.estimate).toBeCloseTo(9.875 / 4, 12);
  });

  it('SNIPS: sum w r over sum w', () => {
    const result = offPolicyEstimate(four, threeInFour, { estimator: 'snips' });
    expect(result.successRate?.estimate).toBeCloseTo(3.6875 / sumW, 12);
    expect(result.meanCostUsd?.estimate).toBeCloseTo(9.875 / sumW, 12);
  });

  it('DR: the reward model under the target, corrected by the weighted residuals', () => {
    const result = offPolicyEstimate(four, threeInFour, { estimator: 'dr' });
    // Success model, shrunk towards the overall rate 0.75 by two pseudo-observations:
    // a = (2 + 1.5) / 4 = 0.875, b = (1 + 1.5) / 4 = 0.625; under the target 0.75 x 0.875 + 0.25 x 0.625 = 0.8125.
    // Terms 0.8125 + w (r - model): 1, 0.5, 0.9296875, 1.28125.
    expect(result.successRate?.estimate).toBeCloseTo(3.7109375 / 4, 12);
    // Cost model: a = 1.5, b = 3.5, under the target 2; terms 1.25, 1.75, 2.46875, 2.625.
    expect(result.meanCostUsd?.estimate).toBeCloseTo(8.09375 / 4, 12);
  });

  it('counts overlap and effective sample size the same way for every estimator', () => {
    for (const estimator of ESTIMATORS) {
      const result = offPolicyEstimate(four, threeInFour, { estimator, minEffectiveSampleSize: 3 });
      expect(result.estimator).toBe(estimator);
      expect(result.decisions).toBe(4);
      expect(result.overlapping).toBe(4);
      expect(result.effectiveSampleSize).toBeCloseTo(sumW ** 2 / w.reduce((s, x) => s + x * x, 0), 12);
      expect(result.supported).toBe(true);
      expect(result.reason).toBeUndefined();
      expect(result.logged).toEqual({ successRate: 0.75, meanCostUsd: 2.5, p95LatencyMs: 400 });
    }
  });

  it('uses the doubly robust estimator unless told otherwise', () => {
    expect(offPolicyEstimate(four, threeInFour).estimator).toBe('dr');
  });
});

describe('offPolicyEstimate when the target is the logging policy', () => {
  // Logging policy: by type, fixed probabilities over three services.
  const logging: Record<string, Record<string, number>> = {
    x: { a: 0.6, b: 0.3, c: 0.1 },
    y: { a: 0.2, b: 0.2, c: 0.6 },
  };
  const random = seeded(11);
  const decisions: LoggedDecision[] = Array.from({ length: 300 }, () => {
    const taskType = random() < 0.5 ? 'x' : 'y';
    const probabilities = logging[taskType] as Record<string, number>;
    const chosen = pick(probabilities, random());
    return decision(chosen, probabilities[chosen] as number, random() < 0.7, {
      taskType,
      candidates: ['a', 'b', 'c'],
      costUsd: random(),
      latencyMs: 1_000 * random(),
    });
  });
  const same: TargetProbabilities = (d) => logging[d.taskType] as Record<string, number>;

  it('gives every decision weight 1, so IPS and SNIPS are the logged means', () => {
    for (const estimator of ['ips', 'snips'] as const) {
      const result = offPolicyEstimate(decisions, same, { estimator });
      expect(result.effectiveSampleSize).toBeCloseTo(300, 9);
      expect(result.successRate?.estimate).toBeCloseTo(result.logged.successRate as number, 12);
      expect(result.meanCostUsd?.estimate).toBeCloseTo(result.logged.meanCostUsd as number, 12);
      expect(result.p95LatencyMs).toBe(result.logged.p95LatencyMs);
    }
    const successes = decisions.filter((d) => d.outcome.success).length;
    expect(offPolicyEstimate(decisions, same).logged.successRate).toBe(successes / 300);
  });

  it('narrows its interval as the confidence asked for falls', () => {
    const width = (confidence: number) => {
      const rate = offPolicyEstimate(decisions, same, { confidence }).successRate;
      return (rate?.high ?? 0) - (rate?.low ?? 0);
    };
    expect(width(0.99)).toBeGreaterThan(width(0.95));
    expect(width(0.95)).toBeGreaterThan(width(0.8));
    // Half-widths scale with z: 2.5758 / 1.2816 between 99% and 80%.
    expect(width(0.99) / width(0.8)).toBeCloseTo(2.575829 / 1.281552, 4);
  });
});

describe('offPolicyEstimate in a simulated world', () => {
  // Two task types, three services; the logging policy and the target disagree, and the logging
  // policy sends each type mostly to a service the target rarely uses.
  const truth: Record<string, Record<string, number>> = {
    x: { a: 0.9, b: 0.6, c: 0.75 },
    y: { a: 0.5, b: 0.85, c: 0.7 },
  };
  const logging: Record<string, Record<string, number>> = {
    x: { a: 0.2, b: 0.6, c: 0.2 },
    y: { a: 0.6, b: 0.2, c: 0.2 },
  };
  const target: Record<string, Record<string, number>> = {
    x: { a: 0.8, b: 0, c: 0.2 },
    y: { a: 0, b: 1, c: 0 },
  };
  // Half the tasks of each type: 0.5 x (0.8 x 0.9 + 0.2 x 0.75) + 0.5 x 0.85.
  const trueRate = 0.5 * (0.72 + 0.15) + 0.5 * 0.85;
  const loggedRate = 0.5 * (0.18 + 0.36 + 0.15) + 0.5 * (0.3 + 0.17 + 0.14);

  function world(seed: number, n: number): LoggedDecision[] {
    const random = seeded(seed);
    return Array.from({ length: n }, () => {
      const taskType = random() < 0.5 ? 'x' : 'y';
      const probabilities = logging[taskType] as Record<string, number>;
      const chosen = pick(probabilities, random());
      const success = random() < (truth[taskType]?.[chosen] as number);
      return decision(chosen, probabilities[chosen] as number, success, {
        taskType,
        candidates: ['a', 'b', 'c'],
      });
    });
  }
  const policy: TargetProbabilities = (d) => target[d.taskType] as Record<string, number>;

  it('lands near the true value of a different policy, and its interval covers it in most worlds', () => {
    const seeds = Array.from({ length: 20 }, (_, i) => 100 + i);
    for (const estimator of ESTIMATORS) {
      let covered = 0;
      let totalError = 0;
      for (const seed of seeds) {
        const result = offPolicyEstimate(world(seed, 4_000), policy, { estimator });
        const rate = result.successRate;
        expect(rate).not.toBeNull();
        const { estimate, low, high } = rate as NonNullable<typeof rate>;
        // IPS, the noisiest, has a standard error near 0.027 here: 0.1 is a gross error for any of them.
        expect(Math.abs(estimate - trueRate)).toBeLessThan(0.1);
        totalError += Math.abs(estimate - trueRate);
        if (low <= trueRate && trueRate <= high) covered++;
        expect(result.supported).toBe(true);
        // The logs alone say something quite different: estimating is doing work.
        expect(Math.abs((result.logged.successRate as number) - trueRate)).toBeGreaterThan(0.1);
      }
      // A 95% interval misses in about 1 world of 20; 16 is far below what it should reach.
      expect(covered).toBeGreaterThanOrEqual(16);
      expect(totalError / seeds.length).toBeLessThan(0.03);
    }
    expect(trueRate - loggedRate).toBeGreaterThan(0.1);
  });
});

describe('offPolicyEstimate says when it cannot answer', () => {
  it('with no decisions', () => {
    const result = offPolicyEstimate([], threeInFour);
    expect(result.supported).toBe(false);
    expect(result.reason).toMatch(/no logged decisions/);
    expect(result.successRate).toBeNull();
    expect(result.effectiveSampleSize).toBe(0);
  });

  it('when the target never chooses what the logger chose', () => {
    const decisions = Array.from({ length: 50 }, () => decision('a', 0.9, true));
    const result = offPolicyEstimate(decisions, () => ({ b: 1 }));
    expect(result.supported).toBe(false);
    expect(result.overlapping).toBe(0);
    expect(result.successRate).toBeNull();
    expect(result.reason).toBe('none of the 50 decisions chose what this policy would');
  });

  it('when the few matching decisions give a tiny effective sample size', () => {
    const decisions = [
      ...Array.from({ length: 196 }, () => decision('a', 0.98, true)),
      ...Array.from({ length: 4 }, (_, i) => decision('b', 0.02, i % 2 === 0)),
    ];
    const result = offPolicyEstimate(decisions, () => ({ b: 1 }));
    expect(result.supported).toBe(false);
    expect(result.overlapping).toBe(4);
    expect(result.effectiveSampleSize).toBeCloseTo(4, 9);
    expect(result.reason).toBe(
      'only 4 of 200 decisions chose what this policy would; effective sample size 4.0 is below 30',
    );
    // Still an answer, for whoever wants to see how uncertain it is.
    expect(result.successRate?.estimate).toBeCloseTo(0.5, 12);
    expect(offPolicyEstimate(decisions, () => ({ b: 1 }), { minEffectiveSampleSize: 4 }).supported).toBe(
      true,
    );
  });

  it('when some decisions were logged without a propensity', () => {
    const decisions = [...four, { ...decision('a', 0.5, true), propensity: undefined as unknown as number }];
    const result = offPolicyEstimate(decisions, threeInFour, {
      estimator: 'snips',
      minEffectiveSampleSize: 0,
    });
    expect(result.supported).toBe(false);
    expect(result.reason).toMatch(/1 of 5 decisions have no logged propensity/);
    expect(result.decisions).toBe(5);
    // The others still give the estimate they gave alone.
    expect(result.successRate?.estimate).toBeCloseTo(3.6875 / sumW, 12);
  });
});

describe('offPolicyEstimate rejects impossible input', () => {
  it.each([0, -0.1, 1.5, Number.POSITIVE_INFINITY])('a propensity of %s, naming the field', (propensity) => {
    const decisions = [decision('a', 0.5, true), decision('a', propensity, true)];
    expect(() => offPolicyEstimate(decisions, threeInFour)).toThrow(RangeError);
    expect(() => offPolicyEstimate(decisions, threeInFour)).toThrow(/decisions\[1\]\.propensity/);
  });

  it.each([-0.2, 1.2, Number.NaN])('a target probability of %s, naming the service', (q) => {
    expect(() => offPolicyEstimate(four, () => ({ a: 0.5, b: q }))).toThrow(RangeError);
    expect(() => offPolicyEstimate(four, () => ({ a: 0.5, b: q }))).toThrow(/target probability of "b"/);
  });

  it('target probabilities summing past 1, and a choice that was not a candidate', () => {
    expect(() => offPolicyEstimate(four, () => ({ a: 0.7, b: 0.7 }))).toThrow(/sum to 1\.4/);
    expect(() => offPolicyEstimate([decision('z', 0.5, true)], threeInFour)).toThrow(
      /decisions\[0\]\.chosen/,
    );
  });

  it('options out of range', () => {
    expect(() => offPolicyEstimate(four, threeInFour, { confidence: 1 })).toThrow(/options\.confidence/);
    expect(() => offPolicyEstimate(four, threeInFour, { estimator: 'dm' as 'dr' })).toThrow(
      /options\.estimator/,
    );
  });
});

describe('weighted p95 latency', () => {
  it('is the ordinary empirical quantile with equal weights', () => {
    const points = Array.from({ length: 20 }, (_, i) => ({ value: (i + 1) * 10, weight: 1 }));
    expect(weightedQuantile(points, 0.95)).toBe(190);
    expect(weightedQuantile(points, 0.5)).toBe(100);
    expect(weightedQuantile([], 0.95)).toBeNull();
  });

  it('follows the target: only the latencies of the service it would use count', () => {
    const decisions = [
      ...Array.from({ length: 40 }, (_, i) => decision('a', 0.5, true, { latencyMs: 10 + i })),
      ...Array.from({ length: 40 }, (_, i) => decision('b', 0.5, true, { latencyMs: 1_000 + i })),
    ];
    const result = offPolicyEstimate(decisions, () => ({ a: 1 }));
    // Forty equal weights on 10..49: the 38th value reaches 95%.
    expect(result.p95LatencyMs).toBe(47);
    expect(result.logged.p95LatencyMs).toBe(1_035);
  });
});

describe('normalQuantile', () => {
  it('matches the tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 6);
    expect(normalQuantile(0.9995)).toBeCloseTo(3.290527, 6);
  });
});
