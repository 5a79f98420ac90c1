import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capabilityBased } from '../../../lib/core/routing/capability.ts';
import {
  evidenceOf,
  expectedUtility,
  LATENCY_SCALE_MS,
  LATENCY_WEIGHT,
  learned,
  utility,
} from '../../../lib/core/routing/learned.ts';
import { leastLoaded, random, roundRobin, weighted } from '../../../lib/core/routing/load-balancing.ts';
import { priorityBased } from '../../../lib/core/routing/priority-based.ts';
import { byName, type Ranking } from '../../../lib/core/routing/strategy.ts';
import type { Service } from '../../../lib/core/service.ts';
import { makeContext, makeService, makeStats, makeTask } from '../support.ts';

const names = (ranking: Ranking) => ranking.ranked.map((c) => c.service.name);
const primaryOf = (ranking: Ranking) => ranking.ranked[0]?.service.name;
const abc = () => [makeService('c'), makeService('a'), makeService('b')];

function expectPermutation(ranking: Ranking, candidates: readonly Service[]) {
  expect([...names(ranking)].sort()).toEqual(candidates.map((s) => s.name).sort());
}

describe('byName', () => {
  it('orders alphabetically and treats equal names as equal', () => {
    expect(
      abc()
        .sort(byName)
        .map((s) => s.name),
    ).toEqual(['a', 'b', 'c']);
    expect(byName(makeService('x'), makeService('x'))).toBe(0);
  });
});

describe('round-robin', () => {
  it('rotates through the candidates in name order, one step per task', async () => {
    const context = makeContext();
    const task = makeTask({ type: 'email_campaign' });
    const orders: string[][] = [];
    for (let i = 0; i < 4; i++) orders.push(names(await roundRobin.rank(abc(), task, context)));
    // the counter starts at 1, so the first turn starts at the second service
    expect(orders).toEqual([
      ['b', 'c', 'a'],
      ['c', 'a', 'b'],
      ['a', 'b', 'c'],
      ['b', 'c', 'a'],
    ]);
    expect(context.ticks.get('rr#email_campaign')).toBe(4);
  });

  it('keeps one rotation per task type', async () => {
    const context = makeContext();
    await roundRobin.rank(abc(), makeTask({ type: 'x' }), context);
    await roundRobin.rank(abc(), makeTask({ type: 'x' }), context);
    const other = await roundRobin.rank(abc(), makeTask({ type: 'y' }), context);
    expect(primaryOf(other)).toBe('b');
    expect(context.ticks.get('rr#x')).toBe(2);
    expect(context.ticks.get('rr#y')).toBe(1);
    expect(other.because).toBe('round-robin turn 1 of 3 services');
  });

  it('spreads the primary role evenly (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), async (n, rounds) => {
        const candidates = Array.from({ length: n }, (_, i) => makeService(`s${i}`));
        const context = makeContext();
        const counts = new Map<string, number>();
        for (let i = 0; i < n * rounds; i++) {
          const ranking = await roundRobin.rank(candidates, makeTask(), context);
          expectPermutation(ranking, candidates);
          const p = primaryOf(ranking) as string;
          counts.set(p, (counts.get(p) ?? 0) + 1);
        }
        expect([...counts.values()]).toEqual(new Array(n).fill(rounds));
      }),
      { numRuns: 30 },
    );
  });
});

describe('random', () => {
  it('returns a permutation, reproducibly for a seed', async () => {
    const task = makeTask();
    const first = names(await random.rank(abc(), task, makeContext({ seed: 5 })));
    const again = names(await random.rank(abc(), task, makeContext({ seed: 5 })));
    expect(first).toEqual(again);
    expect([...first].sort()).toEqual(['a', 'b', 'c']);
  });

  it('does not depend on the input order', async () => {
    const task = makeTask();
    const x = names(await random.rank(abc(), task, makeContext({ seed: 9 })));
    const y = names(await random.rank([...abc()].reverse(), task, makeContext({ seed: 9 })));
    expect(x).toEqual(y);
  });

  it('makes every service primary about equally often', async () => {
    const context = makeContext({ seed: 11 });
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 900; i++) {
      const p = primaryOf(await random.rank(abc(), makeTask(), context)) as string;
      counts[p] = (counts[p] ?? 0) + 1;
    }
    for (const n of Object.values(counts)) {
      expect(n).toBeGreaterThan(240);
      expect(n).toBeLessThan(360);
    }
  });

  it('produces all six orders of three services', async () => {
    const context = makeContext({ seed: 3 });
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(names(await random.rank(abc(), makeTask(), context)).join(''));
    expect(seen.size).toBe(6);
  });
});

describe('least-loaded', () => {
  it('puts the fewest calls in flight per unit of weight first', async () => {
    const candidates = [
      makeService('busy', { load: 8, weight: 1 }),
      makeService('big', { load: 8, weight: 4 }), // 2 per unit of weight
      makeService('idle', { load: 3, weight: 1 }),
    ];
    const ranking = await leastLoaded.rank(candidates, makeTask(), makeContext());
    expect(ranking.ranked.map((c) => [c.service.name, c.score])).toEqual([
      ['big', -2],
      ['idle', -3],
      ['busy', -8],
    ]);
    expect(ranking.because).toBe('least loaded: big has 8 calls in flight');
  });

  it('breaks ties by name', async () => {
    const candidates = [makeService('z', { load: 1 }), makeService('m', { load: 1 }), makeService('k')];
    expect(names(await leastLoaded.rank(candidates, makeTask(), makeContext()))).toEqual(['k', 'm', 'z']);
  });

  it('puts a loaded zero-weight service last', async () => {
    const candidates = [makeService('a', { load: 1, weight: 0 }), makeService('b', { load: 50 })];
    expect(names(await leastLoaded.rank(candidates, makeTask(), makeContext()))).toEqual(['b', 'a']);
  });
});

describe('weighted', () => {
  it('draws the primary in proportion to weight', async () => {
    const candidates = [makeService('light', { weight: 1 }), makeService('heavy', { weight: 3 })];
    const context = makeContext({ seed: 21 });
    let heavy = 0;
    for (let i = 0; i < 2_000; i++) {
      const ranking = await weighted.rank(candidates, makeTask(), context);
      expectPermutation(ranking, candidates);
      if (primaryOf(ranking) === 'heavy') heavy++;
    }
    expect(heavy / 2_000).toBeGreaterThan(0.7);
    expect(heavy / 2_000).toBeLessThan(0.8);
  });

  it('maps the draw onto cumulative weights in name order', async () => {
    const candidates = [makeService('b', { weight: 3 }), makeService('a', { weight: 1 })];
    // total 4: a draw below 1 picks a, above picks b
    expect(names(await weighted.rank(candidates, makeTask(), makeContext({ random: () => 0.2 })))).toEqual([
      'a',
      'b',
    ]);
    expect(names(await weighted.rank(candidates, makeTask(), makeContext({ random: () => 0.3 })))).toEqual([
      'b',
      'a',
    ]);
    const ranking = await weighted.rank(candidates, makeTask(), makeContext({ random: () => 0.3 }));
    expect(ranking.ranked.map((c) => c.score)).toEqual([3, 1]);
    expect(ranking.because).toBe('weighted draw over 2 services');
  });

  it('only ever puts zero-weight services last (property)', async () => {
    const candidates = fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
        weight: fc.constantFrom(0, 0, 1, 2.5, 7),
      }),
      { selector: (s) => s.name, minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(candidates, fc.integer(), async (specs, seed) => {
        const services = specs.map((s) => makeService(s.name, { weight: s.weight }));
        const ranking = await weighted.rank(services, makeTask(), makeContext({ seed }));
        expectPermutation(ranking, services);
        const weights = ranking.ranked.map((c) => c.service.weight);
        const firstZero = weights.indexOf(0);
        if (firstZero !== -1) expect(weights.slice(firstZero).every((w) => w === 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('falls back to name order when every weight is zero', async () => {
    const candidates = [
      makeService('c', { weight: 0 }),
      makeService('a', { weight: 0 }),
      makeService('b', { weight: 0 }),
    ];
    expect(names(await weighted.rank(candidates, makeTask(), makeContext()))).toEqual(['a', 'b', 'c']);
  });
});

describe('capability', () => {
  it('prefers a service that names the action over one that only names the type', async () => {
    const candidates = [
      makeService('by-type', { capabilities: ['image_generation'] }),
      makeService('by-action', { capabilities: ['upscale', 'x', 'y'] }),
    ];
    const ranking = await capabilityBased.rank(
      candidates,
      makeTask({ type: 'image_generation', action: 'upscale' }),
      makeContext(),
    );
    expect(names(ranking)).toEqual(['by-action', 'by-type']);
    expect(ranking.because).toBe('capability match: by-action is the most specific for upscale');
  });

  it('prefers the specialist over the generalist', async () => {
    const candidates = [
      makeService('generalist', { capabilities: ['email_campaign', 'finance', 'fraud_detection'] }),
      makeService('specialist', { capabilities: ['email_campaign'] }),
    ];
    const ranking = await capabilityBased.rank(
      candidates,
      makeTask({ type: 'email_campaign' }),
      makeContext(),
    );
    expect(names(ranking)).toEqual(['specialist', 'generalist']);
    expect(ranking.ranked[0]?.score).toBeCloseTo(1.5, 12);
    expect(ranking.ranked[1]?.score).toBeCloseTo(1.25, 12);
    expect(ranking.because).toBe('capability match: specialist is the most specific for email_campaign');
  });

  it('breaks equal specificity by weight, then by name', async () => {
    const candidates = [
      makeService('b', { capabilities: ['t'], weight: 1 }),
      makeService('a', { capabilities: ['t'], weight: 1 }),
      makeService('heavy', { capabilities: ['t'], weight: 2 }),
    ];
    expect(names(await capabilityBased.rank(candidates, makeTask({ type: 't' }), makeContext()))).toEqual([
      'heavy',
      'a',
      'b',
    ]);
  });
});

describe('priority-based', () => {
  const stats = [
    makeStats('a', 'fraud_detection', { successes: 5, failures: 5, eachMs: 100 }),
    makeStats('b', 'fraud_detection', { successes: 19, failures: 1, eachMs: 100 }),
    makeStats('c', 'fraud_detection', { successes: 1, failures: 9, eachMs: 100 }),
  ];

  it.each(['critical', 'high'] as const)(
    'sends %s tasks to the best record, without exploring',
    async (priority) => {
      const context = makeContext({ stats });
      const task = makeTask({ type: 'fraud_detection', priority });
      for (let i = 0; i < 5; i++) {
        const ranking = await priorityBased.rank(abc(), task, context);
        expect(names(ranking)).toEqual(['b', 'a', 'c']);
        expect(ranking.explored ?? false).toBe(false);
        expect(ranking.because).toBe(`${priority} priority: b has the best record`);
        expect(ranking.ranked[0]?.score).toBeCloseTo(expectedUtility(stats[1]), 12);
      }
      expect(context.statsRequests).toEqual(new Array(5).fill('fraud_detection'));
      expect(context.ticks.size).toBe(0);
    },
  );

  it.each(['normal', 'low'] as const)('spreads %s tasks round-robin', async (priority) => {
    const context = makeContext({ stats });
    const task = makeTask({ type: 'fraud_detection', priority });
    const primaries: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ranking = await priorityBased.rank(abc(), task, context);
      primaries.push(primaryOf(ranking) as string);
      expect(ranking.because).toMatch(new RegExp(`^${priority} priority: round-robin turn ${i + 1} of 3`));
    }
    expect([...primaries].sort()).toEqual(['a', 'b', 'c']);
    expect(context.statsRequests).toEqual([]);
  });

  it('ranks a service without history at the uniform-prior expectation (0.5)', async () => {
    const context = makeContext({ stats: [makeStats('a', 't', { successes: 2, failures: 8 })] });
    const ranking = await priorityBased.rank(
      [makeService('a'), makeService('new')],
      makeTask({ type: 't', priority: 'critical' }),
      context,
    );
    expect(names(ranking)).toEqual(['new', 'a']);
    expect(ranking.ranked[0]?.score).toBe(0.5);
  });
});

describe('utility', () => {
  it('charges latency up to LATENCY_WEIGHT', () => {
    expect(utility(0.9, undefined)).toBe(0.9);
    expect(utility(0.9, 0)).toBe(0.9);
    expect(utility(0.9, LATENCY_SCALE_MS)).toBeCloseTo(0.9 - LATENCY_WEIGHT / 2, 12);
    expect(utility(0.9, 1e12)).toBeCloseTo(0.9 - LATENCY_WEIGHT, 6);
  });

  it('expectedUtility uses the posterior mean under a uniform prior', () => {
    expect(expectedUtility(undefined)).toBe(0.5);
    expect(expectedUtility(makeStats('a', 't', { successes: 8, failures: 0 }))).toBeCloseTo(0.9, 12);
    const slow = makeStats('a', 't', { successes: 8, failures: 0, eachMs: 5_000 });
    expect(expectedUtility(slow)).toBeCloseTo(0.9 - 0.1, 12);
  });
});

describe('learned (Thompson sampling)', () => {
  const type = 'email_campaign';
  const candidates = () => [makeService('B'), makeService('A')];

  async function runs(stats: ReturnType<typeof makeStats>[], n: number, seed: number) {
    const context = makeContext({ seed, stats });
    const task = makeTask({ type });
    const rankings: Ranking[] = [];
    for (let i = 0; i < n; i++) rankings.push(await learned.rank(candidates(), task, context));
    return rankings;
  }

  it('exploits the clearly better service: A (95/100) beats B (50/100) in the large majority of 500 ranks', async () => {
    const rankings = await runs(
      [
        makeStats('A', type, { successes: 95, failures: 5 }),
        makeStats('B', type, { successes: 50, failures: 50 }),
      ],
      500,
      42,
    );
    const aFirst = rankings.filter((r) => primaryOf(r) === 'A');
    expect(aFirst.length).toBeGreaterThan(475);
    for (const r of rankings) {
      expect([...names(r)].sort()).toEqual(['A', 'B']);
      expect(r.explored).toBe(primaryOf(r) !== 'A');
    }
    expect(aFirst[0]?.because).toBe(`learned: A has 95/100 successes for ${type} (confidence 0.9451)`);
  });

  it('still explores B when B has little evidence, and says so', async () => {
    const rankings = await runs(
      [
        makeStats('A', type, { successes: 95, failures: 5 }),
        makeStats('B', type, { successes: 1, failures: 1 }),
      ],
      500,
      7,
    );
    const bFirst = rankings.filter((r) => primaryOf(r) === 'B');
    expect(bFirst.length).toBeGreaterThan(0);
    expect(bFirst.length).toBeLessThan(100); // A stays primary in the large majority
    for (const r of bFirst) {
      expect(r.explored).toBe(true);
      expect(r.because).toBe(
        `learned: B has 1/2 successes for ${type} (confidence 0.6), explored instead of A`,
      );
    }
    for (const r of rankings.filter((x) => primaryOf(x) === 'A')) expect(r.explored).toBe(false);
  });

  it('explores a service with no history at all', async () => {
    const rankings = await runs([makeStats('A', type, { successes: 95, failures: 5 })], 500, 3);
    const bFirst = rankings.filter((r) => primaryOf(r) === 'B');
    expect(bFirst.length).toBeGreaterThan(0);
    expect(bFirst.length).toBeLessThan(100);
    for (const r of bFirst) {
      expect(r.explored).toBe(true);
      expect(r.because).toBe(`learned: no history for B on ${type}, exploring`);
    }
  });

  it('weighs latency: with equal success, the much faster service wins most of the time', async () => {
    const rankings = await runs(
      [
        makeStats('A', type, { successes: 90, failures: 10, eachMs: 60_000 }),
        makeStats('B', type, { successes: 90, failures: 10, eachMs: 50 }),
      ],
      300,
      5,
    );
    const bFirst = rankings.filter((r) => primaryOf(r) === 'B').length;
    expect(bFirst).toBeGreaterThan(270);
  });

  it('is reproducible for a seed', async () => {
    const stats = [
      makeStats('A', type, { successes: 3, failures: 2 }),
      makeStats('B', type, { successes: 2, failures: 2 }),
    ];
    const x = (await runs(stats, 50, 99)).map(primaryOf);
    const y = (await runs(stats, 50, 99)).map(primaryOf);
    expect(x).toEqual(y);
    expect(new Set(x).size).toBe(2);
  });

  it('reads the statistics of the task type only', async () => {
    const context = makeContext({
      seed: 1,
      stats: [
        makeStats('A', 'other_type', { successes: 0, failures: 100 }),
        makeStats('A', type, { successes: 100 }),
      ],
    });
    const ranking = await learned.rank(candidates(), makeTask({ type }), context);
    expect(context.statsRequests).toEqual([type]);
    expect(ranking.ranked).toHaveLength(2);
    expect(ranking.ranked.every((c) => typeof c.score === 'number')).toBe(true);
  });
});

describe('zero-weight services', () => {
  it('come last in a weighted draw even when the draw rounds to the very end', async () => {
    const services = [
      makeService('a', { weight: 0.1 }),
      makeService('b', { weight: 0.2 }),
      makeService('c', { weight: 0.3 }),
      makeService('z', { weight: 0 }),
    ];
    const context = { ...makeContext(), random: () => 1 - 2 ** -52 };
    const { ranked } = await weighted.rank(services, makeTask(), context);
    expect(ranked.at(-1)?.service.name).toBe('z');
    expect(ranked[0]?.service.weight).toBeGreaterThan(0);
  });

  it('come last in least-loaded ranking even when idle', async () => {
    const services = [
      makeService('idle-zero', { weight: 0, load: 0 }),
      makeService('busy', { weight: 1, load: 5 }),
    ];
    const { ranked } = await leastLoaded.rank(services, makeTask(), makeContext());
    expect(ranked.map((r) => r.service.name)).toEqual(['busy', 'idle-zero']);
  });
});

describe('learned routing with a recent window', () => {
  const services = [makeService('a'), makeService('b')];
  const allTime = [
    makeStats('a', 'email_campaign', { successes: 950, failures: 50 }),
    makeStats('b', 'email_campaign', { successes: 80, failures: 20 }),
  ];
  const recent = [
    makeStats('a', 'email_campaign', { successes: 0, failures: 30 }),
    makeStats('b', 'email_campaign', { successes: 20, failures: 0 }),
  ];
  const primaries = async (withRecent: boolean) => {
    const context = {
      ...makeContext({ seed: 5, stats: allTime }),
      ...(withRecent ? { recentStatsFor: async () => recent } : {}),
    };
    const picks: string[] = [];
    for (let i = 0; i < 200; i++)
      picks.push(
        (await learned.rank(services, makeTask({ type: 'email_campaign' }), context)).ranked[0]?.service
          .name as string,
      );
    return picks.filter((p) => p === 'a').length / picks.length;
  };

  it('follows what services did lately: a long record does not hide a recent collapse', async () => {
    expect(await primaries(false)).toBeGreaterThan(0.9);
    expect(await primaries(true)).toBeLessThan(0.05);
  });

  it('weighs history as a prior of at most 20 calls', () => {
    const a = evidenceOf(allTime[0], recent[0]);
    expect(a).toMatchObject({ count: 50, successes: 19, failures: 31 });
    expect(evidenceOf(allTime[1], undefined)).toBe(allTime[1]);
    expect(evidenceOf(undefined, recent[1])).toBe(recent[1]);
  });
});
