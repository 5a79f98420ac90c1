import { describe, expect, it } from 'vitest';
import {
  adaptationTasks,
  calibration,
  makeWorld,
  meanLatencyMs,
  metrics,
  oracleChoice,
  POLICIES,
  PROFILES,
  quantile,
  type Scenario,
  simulate,
  spread,
  trueSuccess,
  trueUtility,
} from '../../../bench/routing-quality.ts';

const degraded: Scenario = {
  name: 'degraded',
  tasks: 1_500,
  arrivalsPerSecond: 20,
  degrade: { atTask: 750, label: 'A', success: 0.3 },
};

describe('the routing simulator', () => {
  it('draws the same world for the same seed, and another for another seed', () => {
    const a = makeWorld(PROFILES, degraded, 7);
    const b = makeWorld(PROFILES, degraded, 7);
    const c = makeWorld(PROFILES, degraded, 8);
    expect(b.uniforms).toEqual(a.uniforms);
    expect(b.latenciesMs).toEqual(a.latenciesMs);
    expect(b.names).toEqual(a.names);
    expect(c.uniforms).not.toEqual(a.uniforms);
    expect([...a.arrivalsMs].every((t, i) => i === 0 || t > (a.arrivalsMs[i - 1] as number))).toBe(true);
  });

  it('has an oracle whose choice is also the most likely to succeed, before and after the degradation', () => {
    const world = makeWorld(PROFILES, degraded, 1);
    for (const t of [0, 749, 750, 1_499]) {
      const best = oracleChoice(world, t);
      for (let i = 0; i < PROFILES.length; i++) {
        expect(trueUtility(world, best, t)).toBeGreaterThanOrEqual(trueUtility(world, i, t));
        expect(trueSuccess(world, best, t)).toBeGreaterThanOrEqual(trueSuccess(world, i, t));
      }
    }
    expect(PROFILES[oracleChoice(world, 0)]?.label).toBe('A');
    expect(PROFILES[oracleChoice(world, 750)]?.label).toBe('B');
  });

  it('is never beaten by any policy in expectation on a fixed seed', async () => {
    const world = makeWorld(PROFILES, degraded, 3);
    const oracle = await simulate(world, 'oracle', 3);
    for (const [p, policy] of POLICIES.entries()) {
      const run = await simulate(world, policy, 100 + p);
      const m = metrics(world, run, oracle);
      expect(m.utilityRegret, policy).toBeGreaterThanOrEqual(0);
      expect(m.expectedSuccessRatio, policy).toBeLessThanOrEqual(1 + 1e-12);
      const after = metrics(world, run, oracle, 750);
      expect(after.utilityRegret, policy).toBeGreaterThanOrEqual(0);
    }
    expect(metrics(world, oracle, oracle)).toMatchObject({ utilityRegret: 0, successRatio: 1, bestShare: 1 });
  });

  it('gives policies that choose alike the same outcomes (common random numbers)', async () => {
    const world = makeWorld(PROFILES, { ...degraded, degrade: undefined }, 5);
    const [a, b] = await Promise.all([simulate(world, 'round-robin', 1), simulate(world, 'random', 2)]);
    let same = 0;
    for (let t = 0; t < world.scenario.tasks; t++) {
      if (a.choice[t] !== b.choice[t]) continue;
      same++;
      expect(a.ok[t]).toBe(b.ok[t]);
      expect(a.latencyMs[t]).toBe(b.latencyMs[t]);
    }
    expect(same).toBeGreaterThan(100);
  });

  it('records a prediction in (0, 1) for every decision of the learned policies only', async () => {
    const world = makeWorld(PROFILES, degraded, 2);
    const learned = await simulate(world, 'learned', 1);
    const windowed = await simulate(world, 'learned-window', 1, { windowSeconds: 10 });
    const robin = await simulate(world, 'round-robin', 1);
    for (const run of [learned, windowed]) {
      expect(run.predicted).toHaveLength(world.scenario.tasks);
      expect([...(run.predicted ?? [])].every((p) => p > 0 && p < 1)).toBe(true);
    }
    expect(robin.predicted).toBeUndefined();
    // With no history the prediction is the confidence prior's mean.
    expect(learned.predicted?.[0]).toBe(0.7);
  });

  it('spreads round-robin evenly over the five services', async () => {
    const world = makeWorld(PROFILES, { ...degraded, degrade: undefined }, 4);
    const run = await simulate(world, 'round-robin', 1);
    const counts = PROFILES.map((_, i) => run.choice.filter((c) => c === i).length);
    expect(counts).toEqual(PROFILES.map(() => world.scenario.tasks / PROFILES.length));
  });

  it('computes lognormal means from medians', () => {
    expect(meanLatencyMs({ label: 'x', success: 1, medianMs: 100, sigma: 0 })).toBe(100);
    expect(meanLatencyMs({ label: 'x', success: 1, medianMs: 100, sigma: 1 })).toBeCloseTo(
      100 * Math.exp(0.5),
      9,
    );
  });
});

describe('adaptationTasks', () => {
  const choices = (n: number, target: (t: number) => boolean) =>
    Uint8Array.from({ length: n }, (_, t) => (target(t) ? 0 : 1));
  /** Adaptation over 1,000 tasks that send task `t` to the target when `target(t)`, from task 500. */
  const adaptationAt500 = (target: (t: number) => boolean) => adaptationTasks(choices(1_000, target), 0, 500);

  it('counts the tasks until every later window sends less than the threshold to the target', () => {
    // Windows [s, s + 200) starting at s <= 560 hold 40 or more target tasks (>= 20%).
    expect(adaptationAt500((t) => t < 600)).toBe(61);
  });

  it('is 0 when the target never gets its share after `from`, and null when it always does', () => {
    expect(adaptationAt500((t) => t < 500)).toBe(0);
    expect(adaptationAt500(() => true)).toBeNull();
    // Exactly 20% is not below 20%.
    expect(adaptationAt500((t) => t % 5 === 0)).toBeNull();
  });

  it('takes a late relapse into account', () => {
    expect(adaptationAt500((t) => t < 520 || (t >= 700 && t < 760))).toBe(221);
  });
});

describe('calibration', () => {
  it('cuts decisions into equal bins by prediction and finds no gap when predictions come true', () => {
    const predicted: number[] = [];
    const ok: number[] = [];
    for (let b = 0; b < 10; b++) {
      for (let i = 0; i < 100; i++) {
        predicted.push(b / 10 + 0.05);
        ok.push(i < b * 10 + 5 ? 1 : 0);
      }
    }
    const { bins, ece } = calibration(predicted, ok);
    expect(bins).toHaveLength(10);
    expect(bins.every((bin) => bin.count === 100)).toBe(true);
    expect(ece).toBeCloseTo(0, 12);
    expect(bins[3]).toMatchObject({ from: 0.35, to: 0.35 });
  });

  it('keeps equal predictions in one bin, whatever their order', () => {
    const ok = [...new Array(500).fill(1), ...new Array(500).fill(0)];
    const { bins, ece } = calibration(new Array(1_000).fill(0.9), ok);
    expect(bins).toHaveLength(1);
    expect(bins[0]).toMatchObject({ from: 0.9, to: 0.9, count: 1_000, observed: 0.5 });
    expect(bins[0]?.meanPredicted).toBeCloseTo(0.9, 12);
    expect(ece).toBeCloseTo(0.4, 12);
    const split = calibration([...new Array(150).fill(0.2), ...new Array(850).fill(0.8)], ok);
    expect(split.bins.map((b) => b.count)).toEqual([150, 850]);
  });
});

describe('statistics helpers', () => {
  it('interpolates quantiles and summarises spreads', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([5, 1, 4, 2, 3], 0.95)).toBeCloseTo(4.8, 12);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(spread([1, 2, 3])).toEqual({ mean: 2, min: 1, max: 3, sd: 1 });
    expect(spread([Number.NaN, 4])).toEqual({ mean: 4, min: 4, max: 4, sd: 0 });
    expect(spread([]).mean).toBeNaN();
  });
});
