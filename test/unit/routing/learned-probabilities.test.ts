import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { learned, PROBABILITY_DRAWS } from '../../../lib/core/routing/learned.ts';
import { DEFAULT_TUNING, type Ranking } from '../../../lib/core/routing/strategy.ts';
import type { ServiceStats } from '../../../lib/core/statistics.ts';
import { makeContext, makeService, makeStats, makeTask, seededRandom } from '../support.ts';

const type = 'email_campaign';
const primaryOf = (ranking: Ranking) => ranking.ranked[0]?.service.name as string;
const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
const smallest = 1 / (PROBABILITY_DRAWS + 1);

async function rankMany(stats: readonly ServiceStats[], names: readonly string[], n: number, seed = 5) {
  const context = makeContext({ seed, stats });
  const services = names.map((name) => makeService(name));
  const rankings: Ranking[] = [];
  for (let i = 0; i < n; i++) rankings.push(await learned.rank(services, makeTask({ type }), context));
  return rankings;
}

describe('learned routing: probabilities of coming first', () => {
  it('gives every candidate a probability, summing to 1, and the primary at least 1/65 (property)', async () => {
    const evidence = fc.array(
      fc.record({ successes: fc.integer({ min: 0, max: 400 }), failures: fc.integer({ min: 0, max: 400 }) }),
      { minLength: 1, maxLength: 5 },
    );
    await fc.assert(
      fc.asyncProperty(evidence, fc.integer(), async (specs, seed) => {
        const names = specs.map((_, i) => `s${i}`);
        const stats = specs.map((spec, i) => makeStats(names[i] as string, type, spec));
        const [ranking] = await rankMany(stats, names, 1, seed);
        const probabilities = (ranking as Ranking).probabilities as Record<string, number>;
        expect(Object.keys(probabilities).sort()).toEqual([...names].sort());
        expect(sum(probabilities)).toBeCloseTo(1, 12);
        expect(probabilities[primaryOf(ranking as Ranking)]).toBeGreaterThanOrEqual(smallest - 1e-12);
        for (const p of Object.values(probabilities)) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('concentrates on a clearly best service', async () => {
    const stats = [
      makeStats('A', type, { successes: 950, failures: 50 }),
      makeStats('B', type, { successes: 500, failures: 500 }),
      makeStats('C', type, { successes: 100, failures: 900 }),
    ];
    for (const ranking of await rankMany(stats, ['C', 'B', 'A'], 50)) {
      const p = ranking.probabilities as Record<string, number>;
      expect(p.A).toBeGreaterThan(0.95);
      expect(p.C).toBeLessThanOrEqual(smallest);
    }
  });

  it('matches how often each service actually comes first when they are close', async () => {
    const stats = [
      makeStats('A', type, { successes: 85, failures: 15 }),
      makeStats('B', type, { successes: 80, failures: 20 }),
      makeStats('C', type, { successes: 75, failures: 25 }),
      makeStats('D', type, { successes: 4, failures: 2 }),
    ];
    const rankings = await rankMany(stats, ['A', 'B', 'C', 'D'], 2_000, 9);
    for (const name of ['A', 'B', 'C', 'D']) {
      const first = rankings.filter((r) => primaryOf(r) === name).length / rankings.length;
      const mean = rankings.reduce((total, r) => total + (r.probabilities?.[name] ?? 0), 0) / rankings.length;
      expect(Math.abs(mean - first), name).toBeLessThan(0.03);
    }
    // the close ones really are uncertain
    expect(rankings.filter((r) => primaryOf(r) === 'A').length / rankings.length).toBeLessThan(0.8);
  });

  it('weighs latency as ranking does', async () => {
    const stats = [
      makeStats('slow', type, { successes: 900, failures: 100, eachMs: 60_000 }),
      makeStats('fast', type, { successes: 900, failures: 100, eachMs: 50 }),
    ];
    const [ranking] = await rankMany(stats, ['slow', 'fast'], 1);
    expect(ranking?.probabilities?.fast).toBeGreaterThan(0.9);
  });

  it('takes no draw from the context: each decision uses two uniforms per service, as the Thompson draw alone does', async () => {
    // shapes of at least 50 are drawn from their normal approximation: exactly two uniforms each
    const stats = ['A', 'B', 'C'].map((name, i) =>
      makeStats(name, type, { successes: 300 + 20 * i, failures: 100 }),
    );
    const uniform = seededRandom(3);
    let used = 0;
    const context = {
      ...makeContext({ stats }),
      random: () => {
        used++;
        return uniform();
      },
    };
    const services = ['A', 'B', 'C'].map((name) => makeService(name));
    for (let i = 0; i < 20; i++) await learned.rank(services, makeTask({ type }), context);
    expect(used).toBe(20 * 3 * 2);
  });

  it('gives the best estimate probability 1 without exploration, and draws nothing', async () => {
    const stats = [
      makeStats('A', type, { successes: 3, failures: 2 }),
      makeStats('B', type, { successes: 2, failures: 2 }),
    ];
    const context = {
      ...makeContext({ stats, random: () => Number.NaN }),
      tuning: { ...DEFAULT_TUNING, explore: false },
    };
    const ranking = await learned.rank([makeService('B'), makeService('A')], makeTask({ type }), context);
    expect(ranking.ranked.map((c) => c.service.name)).toEqual(['A', 'B']);
    expect(ranking.probabilities).toEqual({ A: 1 });
    expect(ranking.explored).toBe(false);
    expect(ranking.because).toBe(`learned: A has 3/5 successes for ${type} (confidence 0.6286)`);
  });

  it('gives a lone candidate probability 1', async () => {
    const [ranking] = await rankMany([], ['only'], 1);
    expect(ranking?.probabilities).toEqual({ only: 1 });
  });
});
