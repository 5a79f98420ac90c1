import { describe, expect, it } from 'vitest';
import {
  EPSILON,
  loggingPolicy,
  makeWorld,
  type ReplayBenchReport,
  replayBench,
  SERVICES,
  targetPolicy,
} from '../../../bench/routing-replay.ts';

const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
const reports = new Map<number, ReplayBenchReport>(seeds.map((seed) => [seed, replayBench({ seed })]));
const report = (seed: number) => reports.get(seed) as ReplayBenchReport;

describe('the replay world', () => {
  it('draws the same world and logs for the same seed, and others for another', () => {
    expect(replayBench({ seed: 1, decisions: 500 })).toEqual(replayBench({ seed: 1, decisions: 500 }));
    expect(makeWorld(200, 2).ok).not.toEqual(makeWorld(200, 1).ok);
  });

  it('logs with explicit probabilities that explore every service', () => {
    const world = makeWorld(300, 9);
    for (let t = 0; t < 300; t++) {
      const probabilities = loggingPolicy(world, t);
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (const p of probabilities) expect(p).toBeGreaterThanOrEqual(EPSILON / SERVICES.length - 1e-12);
      expect(targetPolicy(world, t).filter((p) => p === 1)).toHaveLength(1);
    }
  });

  it('asks about a policy that does differently from the logger, and that the logs alone misjudge', () => {
    for (const seed of seeds) {
      const r = report(seed);
      expect(Math.abs(r.logging.successRate - r.actual.successRate)).toBeGreaterThan(0.02);
    }
    const mean = (f: (r: ReplayBenchReport) => number) =>
      seeds.reduce((s, seed) => s + f(report(seed)), 0) / seeds.length;
    // The per-type means the reward model learns are confounded by difficulty; the propensities correct it.
    expect(mean((r) => r.directMethod.error)).toBeGreaterThan(2 * mean((r) => r.absError));
  });
});

describe('replayBench', () => {
  it('reports the doubly robust error against what the target achieved on the same tasks', () => {
    const r = report(1);
    expect(r.absError).toBe(
      Math.abs((r.estimators.dr.successRate?.estimate ?? Number.NaN) - r.actual.successRate),
    );
    for (const e of Object.values(r.estimators)) expect(e.supported).toBe(true);
    expect(r.effectiveSampleSize).toBeGreaterThan(500);
  });

  it('meets the 0.02 target on the default seed, and its intervals cover the actual rate in most worlds', () => {
    expect(replayBench().absError).toBeLessThanOrEqual(0.02);
    const covered = seeds.filter((seed) => report(seed).estimators.dr.covers).length;
    expect(covered).toBeGreaterThanOrEqual(6);
    expect(seeds.reduce((s, seed) => s + report(seed).absError, 0) / seeds.length).toBeLessThan(0.02);
  });
});
