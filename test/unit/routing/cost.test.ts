import { describe, expect, it } from 'vitest';
import { cheapest } from '../../../lib/core/routing/cost.ts';
import {
  chargedCosts,
  evidenceOf,
  expectedCost,
  expectedUtility,
  learned,
  utility,
} from '../../../lib/core/routing/learned.ts';
import { DEFAULT_TUNING, type Ranking, type RoutingTuning } from '../../../lib/core/routing/strategy.ts';
import type { Service } from '../../../lib/core/service.ts';
import type { ServiceStats } from '../../../lib/core/statistics.ts';
import { makeContext, makeService, makeStats, makeTask, type StatsSpec } from '../support.ts';

const type = 'image_gen';
const names = (ranking: Ranking) => ranking.ranked.map((c) => c.service.name);

/** Statistics whose every call cost `usd`. */
function priced(service: string, spec: StatsSpec, usd: number): ServiceStats {
  const stats = makeStats(service, type, spec);
  return { ...stats, costed: stats.count, totalCost: usd * stats.count };
}

/** A service declaring a price per call (the registry's optional `costPerCall`). */
function declaring(name: string, costPerCall: number): Service {
  return Object.assign(makeService(name), { costPerCall });
}

function tuned(tuning: Partial<RoutingTuning>, stats: readonly ServiceStats[], seed = 1) {
  return { ...makeContext({ seed, stats }), tuning: { ...DEFAULT_TUNING, ...tuning } };
}

const world = () => ({
  services: [makeService('premium'), makeService('bad'), makeService('cheap')],
  stats: [
    priced('cheap', { successes: 95, failures: 5 }, 0.002),
    priced('premium', { successes: 97, failures: 3 }, 0.01),
    priced('bad', { successes: 60, failures: 40 }, 0.001),
  ],
});

describe('utility with cost', () => {
  it('subtracts costWeight x mean cost, and nothing without a weight', () => {
    expect(utility(0.9, undefined, 0.01, 10)).toBeCloseTo(0.8, 12);
    expect(utility(0.9, undefined, 0.01)).toBe(0.9);
    expect(utility(0.9, undefined, undefined, 10)).toBe(0.9);
    expect(utility(0.9, 5_000, 0.02, 5)).toBeCloseTo(0.9 - 0.1 - 0.1, 12);
  });

  it('expectedUtility charges the mean cost of the costed calls', () => {
    const stats = priced('a', { successes: 8, failures: 0 }, 0.004);
    expect(expectedUtility(stats)).toBeCloseTo(0.9, 12);
    expect(expectedUtility(stats, 25)).toBeCloseTo(0.9 - 0.1, 12);
    // only half the calls are costed: their mean is what counts
    expect(expectedUtility({ ...stats, costed: 4, totalCost: 0.04 }, 10)).toBeCloseTo(0.9 - 0.1, 12);
  });

  it('evidenceOf scales the history of costs like the rest', () => {
    const allTime = priced('a', { successes: 100, failures: 0 }, 0.01);
    const recent = priced('a', { successes: 10, failures: 0 }, 0.03);
    const evidence = evidenceOf(allTime, recent) as ServiceStats;
    expect(evidence.costed).toBeCloseTo(30, 12);
    expect(evidence.totalCost).toBeCloseTo(0.3 + 0.2, 12);
  });

  it('prefers observed cost, then the declared price; an unknown price is charged the highest known', () => {
    expect(expectedCost(declaring('a', 0.5), priced('a', { successes: 2 }, 0.1))).toEqual({
      usd: 0.1,
      source: 'observed',
    });
    expect(expectedCost(declaring('a', 0.5), makeStats('a', type, { successes: 2 }))).toEqual({
      usd: 0.5,
      source: 'declared',
    });
    expect(expectedCost(makeService('a'), undefined)).toBeUndefined();
    expect(
      chargedCosts([{ usd: 0.1, source: 'observed' }, undefined, { usd: 0.3, source: 'declared' }]),
    ).toEqual([0.1, 0.3, 0.3]);
    expect(chargedCosts([undefined, undefined])).toEqual([0, 0]);
  });
});

describe('learned routing with a cost weight', () => {
  const services = [makeService('cheap'), makeService('dear')];
  const stats = [
    priced('cheap', { successes: 940, failures: 60 }, 0.002),
    priced('dear', { successes: 960, failures: 40 }, 0.01),
  ];
  const share = async (costWeight: number) => {
    const context = tuned({ costWeight }, stats, 8);
    let cheap = 0;
    for (let i = 0; i < 300; i++) {
      if (names(await learned.rank(services, makeTask({ type }), context))[0] === 'cheap') cheap++;
    }
    return cheap / 300;
  };

  it('follows success alone at weight 0, and the cheap service once cost weighs', async () => {
    // 0.02 of success for $0.008 a call: worth it below 2.5 utility per USD, not above
    expect(await share(0)).toBeLessThan(0.1);
    expect(await share(10)).toBeGreaterThan(0.9);
  });

  it('charges a service that hides its price the highest known one', async () => {
    // free, 'opaque' (0.9) would beat 'priced' (0.96 - 10 x $0.01); charged $0.01, it loses
    const candidates = [makeService('opaque'), makeService('priced')];
    const stats = [
      makeStats('opaque', type, { successes: 900, failures: 100 }),
      priced('priced', { successes: 960, failures: 40 }, 0.01),
    ];
    const context = tuned({ costWeight: 10 }, stats, 8);
    let opaque = 0;
    for (let i = 0; i < 100; i++) {
      if (names(await learned.rank(candidates, makeTask({ type }), context))[0] === 'opaque') opaque++;
    }
    expect(opaque).toBeLessThan(10);
  });
});

describe('cost strategy', () => {
  it('puts first the cheapest service whose expected success clears the bar', async () => {
    const { services, stats } = world();
    const ranking = await cheapest.rank(services, makeTask({ type }), tuned({ minSuccess: 0.9 }, stats));
    expect(names(ranking)).toEqual(['cheap', 'premium', 'bad']);
    expect(ranking.ranked.map((c) => c.score)).toEqual([-0.002, -0.01, undefined]);
    expect(ranking.because).toBe('cost: cheap at $0.002/call with expected success 0.94 >= 0.9');
    expect(ranking.probabilities).toEqual({ cheap: 1 });
    expect(ranking.explored).toBeUndefined();
  });

  it('moves to the dearer service when the bar rises above what the cheap one has shown', async () => {
    const services = [makeService('cheap'), makeService('premium')];
    const stats = [
      priced('cheap', { successes: 950, failures: 50 }, 0.002),
      priced('premium', { successes: 990, failures: 10 }, 0.01),
    ];
    const ranking = await cheapest.rank(services, makeTask({ type }), tuned({ minSuccess: 0.97 }, stats));
    expect(names(ranking)).toEqual(['premium', 'cheap']);
    expect(ranking.because).toBe('cost: premium at $0.01/call with expected success 0.99 >= 0.97');
  });

  it('ranks by expected utility when no service reaches the bar, and says so', async () => {
    const services = [makeService('a'), makeService('b')];
    const stats = [
      priced('a', { successes: 80, failures: 20 }, 0.001),
      priced('b', { successes: 90, failures: 10 }, 0.01),
    ];
    const task = makeTask({ type });
    const bySuccess = await cheapest.rank(services, task, tuned({ minSuccess: 0.99 }, stats));
    expect(names(bySuccess)).toEqual(['b', 'a']);
    expect(bySuccess.because).toBe(
      'cost: no service reaches expected success 0.99; b has the best expected utility 0.892 (expected success 0.89 at $0.01/call)',
    );
    expect(bySuccess.ranked[0]?.score).toBeCloseTo(expectedUtility(stats[1]), 12);
    expect(bySuccess.probabilities).toEqual({ b: 1 });
    // with a cost weight, the fallback's utility weighs price too
    const byUtility = await cheapest.rank(services, task, tuned({ minSuccess: 0.99, costWeight: 20 }, stats));
    expect(names(byUtility)).toEqual(['a', 'b']);
  });

  it('tries a new service by its declared price until the evidence puts it below the bar', async () => {
    const services = [declaring('newcomer', 0.001), makeService('known')];
    const known = priced('known', { successes: 98, failures: 2 }, 0.005);
    const task = makeTask({ type });
    const fresh = await cheapest.rank(services, task, tuned({}, [known]));
    expect(names(fresh)).toEqual(['newcomer', 'known']);
    expect(fresh.because).toBe(
      'cost: newcomer at $0.001/call (declared), not yet shown below expected success 0.9 (0.5 after 0 calls)',
    );
    // 2 of 3: still possibly good enough; 6 of 10: shown below 0.9
    const early = await cheapest.rank(
      services,
      task,
      tuned({}, [known, makeStats('newcomer', type, { successes: 2, failures: 1 })]),
    );
    expect(names(early)[0]).toBe('newcomer');
    const judged = await cheapest.rank(
      services,
      task,
      tuned({}, [known, makeStats('newcomer', type, { successes: 6, failures: 4 })]),
    );
    expect(names(judged)).toEqual(['known', 'newcomer']);
    expect(judged.because).toBe('cost: known at $0.005/call with expected success 0.97 >= 0.9');
  });

  it('puts a service of unknown price after every known price', async () => {
    const services = [makeService('opaque'), makeService('dear'), makeService('cheap')];
    const stats = [
      makeStats('opaque', type, { successes: 99, failures: 1 }),
      priced('dear', { successes: 95, failures: 5 }, 0.05),
      priced('cheap', { successes: 95, failures: 5 }, 0.01),
    ];
    const ranking = await cheapest.rank(services, makeTask({ type }), tuned({}, stats));
    expect(names(ranking)).toEqual(['cheap', 'dear', 'opaque']);
    expect(ranking.ranked[2]?.score).toBeUndefined();
    const alone = await cheapest.rank([makeService('opaque')], makeTask({ type }), tuned({}, stats));
    expect(alone.because).toBe('cost: opaque at an unknown price with expected success 0.98 >= 0.9');
  });

  it('judges on recent calls where the context has them', async () => {
    const services = [makeService('cheap'), makeService('premium')];
    const allTime = [
      priced('cheap', { successes: 990, failures: 10 }, 0.002),
      priced('premium', { successes: 970, failures: 30 }, 0.01),
    ];
    const recent = [
      makeStats('cheap', type, { successes: 5, failures: 25 }),
      makeStats('premium', type, { successes: 30, failures: 0 }),
    ];
    const context = { ...tuned({}, allTime), recentStatsFor: async () => recent };
    const ranking = await cheapest.rank(services, makeTask({ type }), context);
    expect(names(ranking)).toEqual(['premium', 'cheap']);
    // the price still comes from all-time costs
    expect(ranking.because).toMatch(/^cost: premium at \$0\.01\/call with expected success/);
  });

  it('uses the default tuning without one, and ranks nothing without candidates', async () => {
    const { services, stats } = world();
    const ranking = await cheapest.rank(services, makeTask({ type }), makeContext({ stats }));
    expect(ranking.because).toMatch(/>= 0\.9$/);
    expect(await cheapest.rank([], makeTask({ type }), makeContext())).toEqual({
      ranked: [],
      because: 'cost: no candidates',
    });
  });
});
