import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  featureSeparation,
  learned,
  MIN_FEATURE_CALLS,
  MIN_FEATURE_SEPARATION,
} from '../../../lib/core/routing/learned.ts';
import { DEFAULT_TUNING, type Ranking } from '../../../lib/core/routing/strategy.ts';
import {
  LARGE_PARAMETERS_FROM,
  MAX_KEYWORD_FEATURES,
  SMALL_PARAMETERS_BELOW,
  taskFeatures,
} from '../../../lib/core/routing/task-features.ts';
import type { FeatureCounters, ServiceStats } from '../../../lib/core/statistics.ts';
import { makeContext, makeService, makeStats, makeTask } from '../support.ts';

const type = 'image_gen';
const primaryOf = (ranking: Ranking) => ranking.ranked[0]?.service.name as string;

/** `calls` calls of which `ok` succeeded, split by feature: [feature, calls, successes] (each call has any number of features). */
function statsWith(
  service: string,
  calls: number,
  ok: number,
  features: ReadonlyArray<[string, number, number]>,
): ServiceStats {
  return {
    ...makeStats(service, type, { successes: ok, failures: calls - ok }),
    features: Object.fromEntries(features.map(([f, count, successes]) => [f, { count, successes }])),
  };
}

function withoutFeatures(stats: readonly ServiceStats[]): ServiceStats[] {
  return stats.map(({ features: _, ...rest }) => rest);
}

async function primaries(
  stats: readonly ServiceStats[],
  keywords: string[],
  options: { seed?: number; contextual?: boolean; n?: number; recent?: readonly ServiceStats[] } = {},
) {
  const context = {
    ...makeContext({ seed: options.seed ?? 3, stats }),
    tuning: { ...DEFAULT_TUNING, contextual: options.contextual ?? true },
    ...(options.recent ? { recentStatsFor: async () => options.recent as ServiceStats[] } : {}),
  };
  const services = [makeService('b'), makeService('a')];
  const rankings: Ranking[] = [];
  for (let i = 0; i < (options.n ?? 200); i++)
    rankings.push(await learned.rank(services, makeTask({ type, keywords }), context));
  return rankings;
}

const share = (rankings: readonly Ranking[], name: string) =>
  rankings.filter((r) => primaryOf(r) === name).length / rankings.length;

describe('taskFeatures', () => {
  it('lists priority, factory type, the first three distinct keywords and the size, in that order', () => {
    const task = makeTask({
      priority: 'high',
      factoryType: 'media',
      keywords: ['Video', ' video ', 'HD', 'cats', 'dogs'],
      parameters: { prompt: 'a cat' },
    });
    expect(taskFeatures(task)).toEqual([
      'priority=high',
      'factoryType=media',
      'keyword=video',
      'keyword=hd',
      'keyword=cats',
      'size=small',
    ]);
    expect(taskFeatures(makeTask())).toEqual(['priority=normal', 'size=small']);
  });

  it('classes the JSON size of the parameters at the documented thresholds', () => {
    // {"p":"..."} is 8 characters around the value
    const sized = (length: number) =>
      taskFeatures(makeTask({ parameters: { p: 'x'.repeat(length - 8) } })).at(-1);
    expect(sized(SMALL_PARAMETERS_BELOW - 1)).toBe('size=small');
    expect(sized(SMALL_PARAMETERS_BELOW)).toBe('size=medium');
    expect(sized(LARGE_PARAMETERS_FROM - 1)).toBe('size=medium');
    expect(sized(LARGE_PARAMETERS_FROM)).toBe('size=large');
  });

  it('is bounded, free of duplicates and stable for any task (property)', () => {
    const task = fc.record({
      priority: fc.constantFrom('low', 'normal', 'high', 'critical' as const),
      factoryType: fc.option(fc.constantFrom('media', 'research'), { nil: undefined }),
      keywords: fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 50 }),
      parameters: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()),
    });
    fc.assert(
      fc.property(task, (t) => {
        const features = taskFeatures(t);
        expect(features.length).toBeLessThanOrEqual(3 + MAX_KEYWORD_FEATURES);
        expect(new Set(features).size).toBe(features.length);
        expect(taskFeatures(t)).toEqual(features);
        expect(features[0]).toBe(`priority=${t.priority}`);
        expect(features.at(-1)).toMatch(/^size=(small|medium|large)$/);
        expect(features.filter((f) => f.startsWith('keyword=')).length).toBeLessThanOrEqual(
          MAX_KEYWORD_FEATURES,
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('contextual learned routing', () => {
  // a is the video specialist, b the text specialist: 145/200 each over all calls
  const specialists = [
    statsWith('a', 200, 145, [
      ['keyword=video', 100, 95],
      ['keyword=text', 100, 50],
      ['priority=normal', 200, 145],
      ['keyword=en', 100, 73],
    ]),
    statsWith('b', 200, 145, [
      ['keyword=video', 100, 50],
      ['keyword=text', 100, 95],
      ['priority=normal', 200, 145],
      ['keyword=en', 100, 72],
    ]),
  ];

  it('routes each kind of task to its specialist once the evidence shows it', async () => {
    const video = await primaries(specialists, ['video', 'en']);
    const text = await primaries(specialists, ['text', 'en']);
    expect(share(video, 'a')).toBeGreaterThan(0.95);
    expect(share(text, 'b')).toBeGreaterThan(0.95);
    const exploited = video.find((r) => primaryOf(r) === 'a' && !r.explored) as Ranking;
    expect(exploited.because).toBe(
      `learned: a has 95/100 successes for keyword=video on ${type} (confidence 0.9451)`,
    );
  });

  it('splits the same tasks between the two without features', async () => {
    const video = await primaries(specialists, ['video', 'en'], { contextual: false });
    expect(share(video, 'a')).toBeGreaterThan(0.2);
    expect(share(video, 'a')).toBeLessThan(0.8);
    expect(video.every((r) => !r.because.includes('keyword='))).toBe(true);
  });

  it('ignores a feature every task has and one that predicts nothing: same draws as without features', async () => {
    const stats = [
      // with English tasks, a does a little better and b a little worse: noise
      statsWith('a', 200, 150, [
        ['priority=normal', 200, 150],
        ['keyword=en', 100, 76],
      ]),
      statsWith('b', 200, 120, [
        ['priority=normal', 200, 120],
        ['keyword=en', 100, 59],
      ]),
    ];
    const withFeatures = await primaries(stats, ['en'], { n: 100 });
    const plain = await primaries(withoutFeatures(stats), ['en'], { n: 100 });
    expect(withFeatures.map((r) => [primaryOf(r), r.because])).toEqual(
      plain.map((r) => [primaryOf(r), r.because]),
    );
  });

  it('ignores a feature that hurts every service alike', async () => {
    // large inputs cost both services 0.47 of success: b stays worse than a either way
    const stats = [
      statsWith('a', 200, 150, [['size=large', 50, 20]]),
      statsWith('b', 200, 135, [['size=large', 50, 15]]),
    ];
    const large = { p: 'x'.repeat(LARGE_PARAMETERS_FROM) };
    const context = { ...makeContext({ seed: 4, stats }), tuning: DEFAULT_TUNING };
    const ranking = await learned.rank(
      [makeService('a'), makeService('b')],
      makeTask({ type, parameters: large }),
      context,
    );
    expect(ranking.because).not.toContain('size=large');
    expect(
      featureSeparation(
        [
          { count: 50, successes: 20 },
          { count: 50, successes: 15 },
        ],
        stats,
      ),
    ).toBeLessThan(1);
  });

  it('needs enough calls with and without the feature on two services', async () => {
    const thin: FeatureCounters[] = [
      { count: MIN_FEATURE_CALLS - 1, successes: MIN_FEATURE_CALLS - 1 },
      { count: 100, successes: 10 },
    ];
    const totals = [
      makeStats('a', type, { successes: 100, failures: 100 }),
      makeStats('b', type, { successes: 100, failures: 100 }),
    ];
    expect(featureSeparation(thin, totals)).toBe(0);
    const enough: FeatureCounters[] = [
      { count: MIN_FEATURE_CALLS, successes: MIN_FEATURE_CALLS },
      thin[1] as FeatureCounters,
    ];
    expect(featureSeparation(enough, totals)).toBeGreaterThan(MIN_FEATURE_SEPARATION);
    // every call has the feature: nothing to compare it with
    const everywhere: FeatureCounters[] = [
      { count: 200, successes: 100 },
      { count: 200, successes: 100 },
    ];
    expect(featureSeparation(everywhere, totals)).toBe(0);
  });

  it('reads feature counters from the recent window when it carries them', async () => {
    const allTime = [
      statsWith('a', 1_000, 725, [
        ['keyword=video', 500, 475],
        ['keyword=text', 500, 250],
      ]),
      statsWith('b', 1_000, 725, [
        ['keyword=video', 500, 250],
        ['keyword=text', 500, 475],
      ]),
    ];
    // lately the roles have swapped
    const recent = [
      statsWith('a', 100, 58, [
        ['keyword=video', 50, 10],
        ['keyword=text', 50, 48],
      ]),
      statsWith('b', 100, 58, [
        ['keyword=video', 50, 48],
        ['keyword=text', 50, 10],
      ]),
    ];
    expect(share(await primaries(allTime, ['video']), 'a')).toBeGreaterThan(0.95);
    const lately = await primaries(allTime, ['video'], { recent });
    expect(share(lately, 'b')).toBeGreaterThan(0.95);
    expect(lately.find((r) => primaryOf(r) === 'b')?.because).toMatch(
      /^learned: b has 53\/60 successes \(recent, with history as a prior\) for keyword=video on image_gen/,
    );
  });

  it('is reproducible for a seed', async () => {
    const x = (await primaries(specialists, ['video'], { seed: 17, n: 50 })).map(primaryOf);
    const y = (await primaries(specialists, ['video'], { seed: 17, n: 50 })).map(primaryOf);
    expect(x).toEqual(y);
  });
});
