import { confidenceFrom, sampleBeta } from '../confidence.ts';
import { mulberry32 } from '../random.ts';
import type { Service } from '../service.ts';
import { emptyCounters, type FeatureCounters, meanCost, meanMs, type ServiceStats } from '../statistics.ts';
import {
  byName,
  DEFAULT_TUNING,
  type RankedCandidate,
  type RoutingStrategy,
  type RoutingTuning,
} from './strategy.ts';
import { taskFeatures } from './task-features.ts';

/**
 * How much latency costs against success: utility = p(success) - LATENCY_WEIGHT x m / (m + LATENCY_SCALE_MS),
 * m being the mean latency. A service 5 s slower than instant loses at most 0.1 of utility.
 */
export const LATENCY_WEIGHT = 0.2;
export const LATENCY_SCALE_MS = 5_000;

/**
 * What a service is worth for one call: its success probability, less a latency penalty (see
 * {@link LATENCY_WEIGHT}), less `costWeight` x its mean cost. `costWeight` is utility per USD: at
 * 10, a call expected to cost $0.01 loses 0.1, as much as one point in ten of success; at 0 cost
 * is ignored.
 */
export function utility(
  successProbability: number,
  meanLatencyMs: number | undefined,
  meanCostUsd?: number,
  costWeight = 0,
): number {
  const latency = meanLatencyMs ?? 0;
  const cost = costWeight === 0 ? 0 : costWeight * (meanCostUsd ?? 0);
  return successProbability - (LATENCY_WEIGHT * latency) / (latency + LATENCY_SCALE_MS) - cost;
}

/**
 * Best estimate of a service's utility: posterior mean success under a uniform prior, and, with
 * a `costWeight`, the mean cost of its costed calls (none known: no charge).
 */
export function expectedUtility(stats: ServiceStats | undefined, costWeight = 0): number {
  const successes = stats?.successes ?? 0;
  const failures = stats?.failures ?? 0;
  return utility(
    (successes + 1) / (successes + failures + 2),
    stats ? meanMs(stats) : undefined,
    stats ? meanCost(stats) : undefined,
    costWeight,
  );
}

/**
 * With a recent window, long-term history counts as a prior worth at most this many calls, so a
 * service that changed (degraded, or recovered) is judged mostly on what it did lately.
 */
export const HISTORY_PRIOR_WEIGHT = 20;

/**
 * The evidence about one service: all-time counters alone, or, when the context has a recent
 * window, the window's counters plus all-time counters scaled down to {@link HISTORY_PRIOR_WEIGHT}.
 * Feature counters are combined separately, for the features a task has (see {@link learned}).
 */
export function evidenceOf(
  allTime: ServiceStats | undefined,
  recent: ServiceStats | undefined,
): ServiceStats | undefined {
  if (recent === undefined) return allTime;
  if (allTime === undefined) return recent;
  const scale = historyScale(allTime);
  return {
    ...recent,
    count: recent.count + scale * allTime.count,
    successes: recent.successes + scale * allTime.successes,
    failures: recent.failures + scale * allTime.failures,
    timeouts: recent.timeouts + scale * allTime.timeouts,
    totalMs: recent.totalMs + scale * allTime.totalMs,
    costed: (recent.costed ?? 0) + scale * (allTime.costed ?? 0),
    totalCost: (recent.totalCost ?? 0) + scale * (allTime.totalCost ?? 0),
  };
}

/**
 * The evidence about the service named `service` as the learned and cost strategies read it:
 * {@link evidenceOf} its all-time and (when the context has a window) recent statistics, a
 * service missing from the window counting as one without recent calls; undefined without calls.
 */
export function serviceEvidence(
  service: string,
  allTimeBy: ReadonlyMap<string, ServiceStats>,
  recentBy: ReadonlyMap<string, ServiceStats> | undefined,
): ServiceStats | undefined {
  const found = evidenceOf(
    allTimeBy.get(service),
    recentBy ? (recentBy.get(service) ?? NO_RECENT_CALLS) : undefined,
  );
  return found && found.count > 0 ? found : undefined;
}

function historyScale(allTime: ServiceStats): number {
  return allTime.count > HISTORY_PRIOR_WEIGHT ? HISTORY_PRIOR_WEIGHT / allTime.count : 1;
}

/** What a call to a service is expected to cost (USD), and where the figure comes from. */
export interface CostEstimate {
  usd: number;
  source: 'observed' | 'declared';
}

/**
 * The mean cost of the service's costed calls (all time), else the price it declares per call
 * (`costPerCall`), else undefined: nothing is known.
 */
export function expectedCost(service: Service, allTime: ServiceStats | undefined): CostEstimate | undefined {
  const observed = allTime && allTime.costed > 0 ? meanCost(allTime) : undefined;
  if (observed !== undefined) return { usd: observed, source: 'observed' };
  const declared = (service as { costPerCall?: number }).costPerCall;
  return declared === undefined ? undefined : { usd: declared, source: 'declared' };
}

/**
 * The cost each estimate charges in a utility: its own, or, where nothing is known, the highest
 * known among the candidates (0 when none is known), so that a service does not win on price
 * because it hides its price.
 */
export function chargedCosts(estimates: ReadonlyArray<CostEstimate | undefined>): number[] {
  let highest = 0;
  for (const e of estimates) if (e && e.usd > highest) highest = e.usd;
  return estimates.map((e) => e?.usd ?? highest);
}

/**
 * Contextual routing: a feature conditions the draws only if at least two candidates have this
 * many calls of tasks with it and as many without it (recent calls plus scaled history, as
 * {@link evidenceOf} counts).
 */
export const MIN_FEATURE_CALLS = 10;
/**
 * ... and if it separates them: for each such candidate, the feature's effect is its posterior
 * mean success with the feature less that without it; the largest difference between two
 * candidates' effects, in standard errors, must reach this (a test of interaction between
 * feature and service). A feature that changes every service alike (large inputs fail
 * everywhere), or that every task has, does not change who is best and is ignored. At 3, a
 * specialist that the generalist starves of traffic was recognised late in the economics bench
 * (after 4,000 tasks in one seed of ten); at 2, features that predict nothing were followed for
 * a fifth of the tasks in another. Following such a feature only splits the evidence.
 */
export const MIN_FEATURE_SEPARATION = 2.5;
/**
 * With a feature chosen, a service's unconditioned counters are the prior of its
 * feature-conditioned success, scaled down to at most this many calls.
 */
export const FEATURE_PRIOR_WEIGHT = 10;

/**
 * The draws behind `probabilities`: the decision's own Thompson draw plus this many more with the
 * same evidence. A candidate's probability is its share of first places among the 65 draws, so a
 * primary has at least 1/65, and the estimate's standard error is at most 0.062 (at 0.5), 0.027
 * at 0.95. A power of two (see {@link firstPlaceProbabilities}).
 *
 * The extra draws are cheap stand-ins for Beta draws: each posterior's log-odds are taken as
 * normal with the log-odds' exact mean and variance (digamma and trigamma of the shapes), read
 * from a fixed, balanced set of normal scores in an order drawn per candidate and decision.
 * Averaged over decisions, the probabilities match how often each candidate comes first. In the
 * hot-paths bench (brain and router in memory, five services) they cost about a third of the
 * decisions per second; exact Beta draws cost seven eighths. Halving K halves the extra cost.
 */
export const PROBABILITY_DRAWS = 64;

/** 32 standard normal draws and their negatives, scaled to variance 1: mean and skew are exactly 0. */
const NORMAL_SCORES: Float64Array = (() => {
  const random = mulberry32(0x5eed);
  const half = PROBABILITY_DRAWS / 2;
  const scores = new Float64Array(PROBABILITY_DRAWS);
  for (let i = 0; i < half; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    scores[i] = z;
    scores[i + half] = -z;
  }
  const sd = Math.sqrt(scores.reduce((sum, z) => sum + z * z, 0) / PROBABILITY_DRAWS);
  return scores.map((z) => z / sd);
})();
/** The largest normal score in magnitude: no draw goes further from a posterior's centre. */
const NORMAL_SCORE_REACH = NORMAL_SCORES.reduce((reach, z) => Math.max(reach, Math.abs(z)), 0);

/** One candidate as learned ranking sees it: Beta(alpha, beta) on success, and a fixed offset. */
interface Posterior {
  service: Service;
  evidence: ServiceStats | undefined;
  /** The counters of the chosen feature, when one is chosen. */
  feature: FeatureCounters | undefined;
  alpha: number;
  beta: number;
  meanLatencyMs: number | undefined;
  cost: number;
}

/**
 * Learned routing by Thompson sampling: each service's success probability is drawn from its
 * Beta(successes + 1, failures + 1) posterior and the highest utility wins. A service that was
 * unlucky early still gets traffic in proportion to the chance that it is in fact the best,
 * so greedy starvation cannot happen; as evidence accumulates the draws concentrate and the
 * router exploits. Where the context offers recent statistics, they lead (see {@link evidenceOf}).
 *
 * The context's tuning (default {@link DEFAULT_TUNING}) adds: cost in the utility
 * (`costWeight`); task features (`contextual`): among the task's features, the one that best
 * separates the services (see {@link MIN_FEATURE_SEPARATION}) conditions each service's
 * posterior on the calls with that feature; and `explore`: off, the ranking is by expected
 * utility and nothing is drawn. The ranking's `probabilities` estimate each candidate's chance of
 * coming first (see {@link PROBABILITY_DRAWS}).
 */
export const learned: RoutingStrategy = {
  name: 'learned',
  async rank(candidates, task, context) {
    if (candidates.length === 0) return { ranked: [], because: 'learned: no candidates' };
    const tuning: RoutingTuning = context.tuning ?? DEFAULT_TUNING;
    const explore = tuning.explore !== false;
    // One after the other: both come from memory in a worker, where a Promise.all costs more than it saves.
    const allTime = await context.statsFor(task.type);
    const recent = context.recentStatsFor ? await context.recentStatsFor(task.type) : undefined;
    const allTimeBy = new Map(allTime.map((s) => [s.service, s]));
    const recentBy = recent && new Map(recent.map((s) => [s.service, s]));
    const services = [...candidates].sort(byName);
    const evidence = services.map((service) => serviceEvidence(service.name, allTimeBy, recentBy));
    const costs =
      tuning.costWeight === 0
        ? undefined
        : chargedCosts(services.map((s) => expectedCost(s, allTimeBy.get(s.name))));
    const conditioning = tuning.contextual
      ? separatingFeature(task, services, evidence, allTime, allTimeBy, recent, recentBy)
      : undefined;
    const posteriors = services.map((service, i): Posterior => {
      const found = evidence[i];
      const feature = conditioning?.counters[i];
      const successes = found?.successes ?? 0;
      const failures = found?.failures ?? 0;
      const scale = feature ? Math.min(1, FEATURE_PRIOR_WEIGHT / Math.max(1, successes + failures)) : 1;
      return {
        service,
        evidence: found,
        feature,
        alpha: (feature?.successes ?? 0) + scale * successes + 1,
        beta: (feature ? feature.count - feature.successes : 0) + scale * failures + 1,
        meanLatencyMs: found ? meanMs(found) : undefined,
        cost: costs?.[i] ?? 0,
      };
    });
    const worth = (p: Posterior, success: number) =>
      utility(success, p.meanLatencyMs, p.cost, tuning.costWeight);
    // One pass in name order (so that draws are reproducible): a draw, the expectation.
    const scored = posteriors.map((p, index) => {
      const expected = worth(p, p.alpha / (p.alpha + p.beta));
      const theta = explore ? sampleBeta(p.alpha, p.beta, context.random) : undefined;
      return { p, index, theta, score: theta === undefined ? expected : worth(p, theta), expected };
    });
    // The best estimate: the first in name order among the highest expectations.
    const best = scored.reduce((top, c) => (c.expected > top.expected ? c : top));
    scored.sort((a, b) => b.score - a.score || byName(a.p.service, b.p.service));
    const primary = scored[0] as (typeof scored)[number];
    const explored = best.p.service.name !== primary.p.service.name;
    const probabilities = explore
      ? firstPlaceProbabilities(
          posteriors,
          primary.index,
          scored.map((s) => s.theta as number),
          (p) => worth(p, 0),
        )
      : { [primary.p.service.name]: 1 };
    return {
      ranked: scored.map(({ p, score }): RankedCandidate => ({ service: p.service, score })),
      explored,
      because: because(
        primary.p,
        task.type,
        conditioning?.feature,
        recentBy !== undefined,
        explore,
        explored && best.p,
      ),
      probabilities,
    };
  },
};

function because(
  primary: Posterior,
  taskType: string,
  feature: string | undefined,
  withRecent: boolean,
  explore: boolean,
  insteadOf: Posterior | false,
): string {
  const counters = feature === undefined ? primary.evidence : primary.feature;
  const name = primary.service.name;
  if (counters === undefined || counters.count === 0) {
    const what = feature === undefined ? '' : ` with ${feature}`;
    return `learned: no history for ${name}${what} on ${taskType}${explore ? ', exploring' : ''}`;
  }
  const successes = Math.round(counters.successes);
  const calls = Math.round(counters.count);
  const failures = counters.count - counters.successes;
  const subject = feature === undefined ? taskType : `${feature} on ${taskType}`;
  return `learned: ${name} has ${successes}/${calls} successes${withRecent ? ' (recent, with history as a prior)' : ''} for ${subject} (confidence ${confidenceFrom({ successes: counters.successes, failures })})${insteadOf ? `, explored instead of ${insteadOf.service.name}` : ''}`;
}

/** The feature that conditions the draws, and each candidate's counters for it (aligned). */
interface FeatureChoice {
  feature: string;
  separation: number;
  counters: FeatureCounters[];
}

/**
 * Among the task's features, the one that best separates the candidates (see
 * {@link MIN_FEATURE_SEPARATION}), or undefined when the statistics carry no feature counters or
 * no feature is informative. Feature counters come from the recent window where its statistics
 * carry them (plus history scaled as {@link evidenceOf} does), else from all time; the calls
 * without the feature are counted over the same span.
 */
function separatingFeature(
  task: Parameters<typeof taskFeatures>[0],
  services: readonly Service[],
  evidence: ReadonlyArray<ServiceStats | undefined>,
  allTime: readonly ServiceStats[],
  allTimeBy: ReadonlyMap<string, ServiceStats>,
  recent: readonly ServiceStats[] | undefined,
  recentBy: ReadonlyMap<string, ServiceStats> | undefined,
): FeatureChoice | undefined {
  const windowed = recent?.some((s) => s.features !== undefined) ?? false;
  if (!windowed && !allTime.some((s) => s.features !== undefined)) return undefined;
  let chosen: FeatureChoice | undefined;
  for (const feature of taskFeatures(task)) {
    const counters = services.map((service) => {
      const history = allTimeBy.get(service.name);
      const old = history?.features?.[feature];
      if (!windowed) return old ?? NO_FEATURE_CALLS;
      const lately = recentBy?.get(service.name)?.features?.[feature];
      const scale = history ? historyScale(history) : 1;
      return {
        count: (lately?.count ?? 0) + scale * (old?.count ?? 0),
        successes: (lately?.successes ?? 0) + scale * (old?.successes ?? 0),
      };
    });
    const separation = featureSeparation(
      counters,
      windowed ? evidence : services.map((s) => allTimeBy.get(s.name)),
    );
    if (separation >= MIN_FEATURE_SEPARATION && separation > (chosen?.separation ?? 0))
      chosen = { feature, separation, counters };
  }
  return chosen;
}

/**
 * How far apart a feature sets the candidates: for each candidate with at least
 * {@link MIN_FEATURE_CALLS} calls with the feature and as many without, its effect d = p_with -
 * p_without (posterior means under a uniform prior) and the variance v of that difference; the
 * result is the largest (d_i - d_j) / sqrt(v_i + v_j), 0 with fewer than two such candidates.
 * `all` holds each candidate's counters over all its calls, those with the feature included.
 */
export function featureSeparation(
  withFeature: readonly FeatureCounters[],
  all: ReadonlyArray<Pick<ServiceStats, 'successes' | 'failures'> | undefined>,
): number {
  const effects: Array<{ d: number; v: number }> = [];
  withFeature.forEach((c, i) => {
    const calls = (all[i]?.successes ?? 0) + (all[i]?.failures ?? 0);
    const without = calls - c.count;
    if (c.count < MIN_FEATURE_CALLS || without < MIN_FEATURE_CALLS) return;
    const successesWithout = Math.max(0, (all[i]?.successes ?? 0) - c.successes);
    const p = (c.successes + 1) / (c.count + 2);
    const q = (successesWithout + 1) / (without + 2);
    effects.push({ d: p - q, v: (p * (1 - p)) / (c.count + 3) + (q * (1 - q)) / (without + 3) });
  });
  let largest = 0;
  for (const a of effects) {
    for (const b of effects) {
      if (a.d > b.d) largest = Math.max(largest, (a.d - b.d) / Math.sqrt(a.v + b.v));
    }
  }
  return largest;
}

/**
 * Each candidate's share of first places among the decision's draw and {@link PROBABILITY_DRAWS}
 * more, keyed by name. A draw scores a candidate theta + offset, its offset being its utility at
 * success 0 (latency and cost penalties); ties go to the first in name order, as in ranking. Draw
 * k reads candidate i's normal score at (start_i + k x stride_i) mod K, start and odd stride drawn
 * from a generator seeded by the decision's draw: a permutation of the scores (K is a power of
 * two), independent between candidates, that takes nothing from `context.random`.
 */
function firstPlaceProbabilities(
  posteriors: readonly Posterior[],
  primary: number,
  draws: readonly number[],
  offsetOf: (p: Posterior) => number,
): Record<string, number> {
  const n = posteriors.length;
  if (n === 1) return { [(posteriors[0] as Posterior).service.name]: 1 };
  const wins = new Float64Array(n);
  wins[primary] = 1;
  const random = mulberry32(seedOf(draws));
  const location = new Float64Array(n);
  const scale = new Float64Array(n);
  const offset = new Float64Array(n);
  const start = new Int32Array(n);
  const stride = new Int32Array(n);
  const highest = new Float64Array(n);
  let floor = Number.NEGATIVE_INFINITY;
  posteriors.forEach((p, i) => {
    const at = digamma(p.alpha) - digamma(p.beta);
    const sd = Math.sqrt(trigamma(p.alpha) + trigamma(p.beta));
    const off = offsetOf(p);
    location[i] = at;
    scale[i] = sd;
    offset[i] = off;
    start[i] = Math.floor(random() * PROBABILITY_DRAWS);
    stride[i] = 2 * Math.floor(random() * (PROBABILITY_DRAWS / 2)) + 1;
    highest[i] = sigmoid(at + sd * NORMAL_SCORE_REACH) + off;
    floor = Math.max(floor, sigmoid(at - sd * NORMAL_SCORE_REACH) + off);
  });
  // A candidate whose best score is below another's worst can never come first: it is left out.
  const live: number[] = [];
  for (let i = 0; i < n; i++) if ((highest[i] as number) >= floor) live.push(i);
  if (live.length === 1) wins[live[0] as number] = (wins[live[0] as number] as number) + PROBABILITY_DRAWS;
  else {
    const mask = PROBABILITY_DRAWS - 1;
    for (let k = 0; k < PROBABILITY_DRAWS; k++) {
      let top = Number.NEGATIVE_INFINITY;
      let first = 0;
      for (const i of live) {
        const z = NORMAL_SCORES[((start[i] as number) + k * (stride[i] as number)) & mask] as number;
        const score = sigmoid((location[i] as number) + (scale[i] as number) * z) + (offset[i] as number);
        if (score > top) {
          top = score;
          first = i;
        }
      }
      wins[first] = (wins[first] as number) + 1;
    }
  }
  const probabilities: Record<string, number> = {};
  posteriors.forEach((p, i) => {
    probabilities[p.service.name] = (wins[i] as number) / (PROBABILITY_DRAWS + 1);
  });
  return probabilities;
}

/**
 * The logistic function 1 / (1 + e^-x), read from a table with linear interpolation: within
 * 7e-6 of the exact value on [-24, 24] (beyond, it is flat; e^-24 is 4e-11), and several times
 * cheaper than `Math.exp` in the loop above.
 */
function sigmoid(x: number): number {
  const t = (x + SIGMOID_RANGE) * SIGMOID_PER_UNIT;
  if (!(t > 0)) return SIGMOID_TABLE[0] as number;
  if (t >= SIGMOID_STEPS) return SIGMOID_TABLE[SIGMOID_STEPS] as number;
  const j = t | 0;
  const low = SIGMOID_TABLE[j] as number;
  return low + (t - j) * ((SIGMOID_TABLE[j + 1] as number) - low);
}

const SIGMOID_RANGE = 24;
const SIGMOID_STEPS = 2_048;
const SIGMOID_PER_UNIT = SIGMOID_STEPS / (2 * SIGMOID_RANGE);
const SIGMOID_TABLE = Float64Array.from(
  { length: SIGMOID_STEPS + 1 },
  (_, j) => 1 / (1 + Math.exp(SIGMOID_RANGE - j / SIGMOID_PER_UNIT)),
);

/** A 32-bit seed mixed from draws in [0, 1]. */
function seedOf(draws: readonly number[]): number {
  let seed = 0x9e3779b9;
  for (const draw of draws) seed = Math.imul(seed ^ Math.floor(draw * 4_294_967_296), 0x85ebca6b) >>> 0;
  return seed;
}

/** psi(x) for x >= 1: the recurrence up to 6, then the asymptotic series (error below 1e-9). */
function digamma(x: number): number {
  let shift = 0;
  let y = x;
  for (; y < 6; y++) shift -= 1 / y;
  const f = 1 / (y * y);
  return shift + Math.log(y) - 0.5 / y - f * (1 / 12 - f * (1 / 120 - f / 252));
}

/** psi'(x) for x >= 1, the same way. */
function trigamma(x: number): number {
  let shift = 0;
  let y = x;
  for (; y < 6; y++) shift += 1 / (y * y);
  const f = 1 / (y * y);
  return shift + 1 / y + f / 2 + (f / y) * (1 / 6 - f * (1 / 30 - f / 42));
}

/** A service without calls in the recent window (shared: nothing writes to it). */
const NO_RECENT_CALLS: ServiceStats = Object.freeze({ taskType: '', service: '', ...emptyCounters() });
/** A service without calls of tasks with a feature. */
const NO_FEATURE_CALLS: FeatureCounters = Object.freeze({ count: 0, successes: 0 });
