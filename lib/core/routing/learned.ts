import { confidenceFrom, sampleBeta } from '../confidence.ts';
import { emptyCounters, meanMs, type ServiceStats } from '../statistics.ts';
import { byName, type RankedCandidate, type RoutingStrategy } from './strategy.ts';

/**
 * How much latency costs against success: utility = p(success) - LATENCY_WEIGHT x m / (m + LATENCY_SCALE_MS),
 * m being the mean latency. A service 5 s slower than instant loses at most 0.1 of utility.
 */
export const LATENCY_WEIGHT = 0.2;
export const LATENCY_SCALE_MS = 5_000;

export function utility(successProbability: number, meanLatencyMs: number | undefined): number {
  const latency = meanLatencyMs ?? 0;
  return successProbability - (LATENCY_WEIGHT * latency) / (latency + LATENCY_SCALE_MS);
}

/** Best estimate of a service's utility: posterior mean success under a uniform prior. */
export function expectedUtility(stats: ServiceStats | undefined): number {
  const successes = stats?.successes ?? 0;
  const failures = stats?.failures ?? 0;
  return utility((successes + 1) / (successes + failures + 2), stats ? meanMs(stats) : undefined);
}

/**
 * With a recent window, long-term history counts as a prior worth at most this many calls, so a
 * service that changed (degraded, or recovered) is judged mostly on what it did lately.
 */
export const HISTORY_PRIOR_WEIGHT = 20;

/**
 * The evidence about one service: all-time counters alone, or, when the context has a recent
 * window, the window's counters plus all-time counters scaled down to {@link HISTORY_PRIOR_WEIGHT}.
 */
export function evidenceOf(
  allTime: ServiceStats | undefined,
  recent: ServiceStats | undefined,
): ServiceStats | undefined {
  if (recent === undefined) return allTime;
  if (allTime === undefined) return recent;
  const scale = allTime.count > HISTORY_PRIOR_WEIGHT ? HISTORY_PRIOR_WEIGHT / allTime.count : 1;
  return {
    ...recent,
    count: recent.count + scale * allTime.count,
    successes: recent.successes + scale * allTime.successes,
    failures: recent.failures + scale * allTime.failures,
    timeouts: recent.timeouts + scale * allTime.timeouts,
    totalMs: recent.totalMs + scale * allTime.totalMs,
  };
}

/**
 * Learned routing by Thompson sampling: each service's success probability is drawn from its
 * Beta(successes + 1, failures + 1) posterior and the highest utility wins. A service that was
 * unlucky early still gets traffic in proportion to the chance that it is in fact the best,
 * so greedy starvation cannot happen; as evidence accumulates the draws concentrate and the
 * router exploits. Where the context offers recent statistics, they lead (see {@link evidenceOf}).
 */
export const learned: RoutingStrategy = {
  name: 'learned',
  async rank(candidates, task, context) {
    if (candidates.length === 0) return { ranked: [], because: 'learned: no candidates' };
    // One after the other: both come from memory in a worker, where a Promise.all costs more than it saves.
    const allTime = await context.statsFor(task.type);
    const recent = context.recentStatsFor ? await context.recentStatsFor(task.type) : undefined;
    const allTimeBy = new Map(allTime.map((s) => [s.service, s]));
    const recentBy = recent && new Map(recent.map((s) => [s.service, s]));
    // One pass in name order (so that draws are reproducible): evidence, a draw, the expectation.
    const scored = [...candidates].sort(byName).map((service) => {
      const found = evidenceOf(
        allTimeBy.get(service.name),
        recentBy ? (recentBy.get(service.name) ?? NO_RECENT_CALLS) : undefined,
      );
      const evidence = found && found.count > 0 ? found : undefined;
      const theta = sampleBeta((evidence?.successes ?? 0) + 1, (evidence?.failures ?? 0) + 1, context.random);
      const mean = evidence ? meanMs(evidence) : undefined;
      return { service, evidence, score: utility(theta, mean), expected: expectedUtility(evidence) };
    });
    // The best estimate: the first in name order among the highest expectations.
    const best = scored.reduce((top, c) => (c.expected > top.expected ? c : top));
    scored.sort((a, b) => b.score - a.score || byName(a.service, b.service));
    const primary = scored[0] as (typeof scored)[number];
    const explored = best.service.name !== primary.service.name;
    const evidence = primary.evidence;
    const because = evidence
      ? `learned: ${primary.service.name} has ${Math.round(evidence.successes)}/${Math.round(evidence.count)} successes${recentBy ? ' (recent, with history as a prior)' : ''} for ${task.type} (confidence ${confidenceFrom(evidence)})${explored ? `, explored instead of ${best.service.name}` : ''}`
      : `learned: no history for ${primary.service.name} on ${task.type}, exploring`;
    return {
      ranked: scored.map(({ service, score }): RankedCandidate => ({ service, score })),
      explored,
      because,
    };
  },
};

/** A service without calls in the recent window (shared: nothing writes to it). */
const NO_RECENT_CALLS: ServiceStats = Object.freeze({ taskType: '', service: '', ...emptyCounters() });
