/**
 * Off-policy evaluation: how a routing policy that never ran would have done on the decisions
 * already logged, without sending it any traffic. Every logged decision carries the probability
 * the logging policy gave its choice (its propensity). Weighting each outcome by
 * w = target probability / propensity makes the logged traffic an unbiased sample of what the
 * target would have seen, provided the target only chooses what the logger sometimes chose.
 * When it rarely did, the few matching decisions carry all the weight: the effective sample size
 * says so, and the estimate is marked unsupported instead of being trusted.
 */

export interface LoggedDecision {
  taskType: string;
  /** Candidate service names in the order logged. */
  candidates: string[];
  chosen: string;
  /** Probability the logging policy gave `chosen` (0 < p <= 1). */
  propensity: number;
  outcome: { success: boolean; latencyMs?: number | undefined; costUsd?: number | undefined };
}

/**
 * Inverse propensity scoring (unbiased, high variance), its self-normalised form (a little bias,
 * much less variance, always a rate in [0, 1]) and doubly robust (a reward model's prediction
 * corrected by the weighted residuals: unbiased with correct propensities, and the better the
 * model the smaller the variance).
 */
export const ESTIMATORS = ['ips', 'snips', 'dr'] as const;
export type Estimator = (typeof ESTIMATORS)[number];

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface ReplayEstimate {
  estimator: Estimator;
  /** Logged decisions considered. */
  decisions: number;
  /** Decisions where the target policy gives the logged choice a positive probability. */
  overlapping: number;
  /** (sum w)^2 / sum w^2 with w = pi(chosen) / propensity; 0 when no decision has weight. */
  effectiveSampleSize: number;
  supported: boolean;
  /** Plain words when not supported (e.g. "only 4 of 200 decisions chose what this policy would; effective sample size 3.1 is below 30"). */
  reason?: string | undefined;
  successRate: Interval | null;
  /** Over decisions whose outcome has a cost; null when none (or none of them overlaps). */
  meanCostUsd: Interval | null;
  /**
   * Weighted quantile of logged latencies (importance weights); null when none. The same for every
   * estimator: a quantile has no simple unbiased or doubly robust form, the reweighted sample does.
   */
  p95LatencyMs: number | null;
  /** What the logging policy itself achieved on the same decisions (plain means / p95; null when none). */
  logged: { successRate: number | null; meanCostUsd: number | null; p95LatencyMs: number | null };
}

/** Probability the target policy gives each candidate of a decision (missing names = 0). */
export type TargetProbabilities = (decision: LoggedDecision) => Record<string, number>;

export interface OffPolicyOptions {
  /** Default `dr`: the smallest variance of the three when propensities are right, which they are by construction. */
  estimator?: Estimator;
  /** Two-sided confidence of the intervals; default 0.95. */
  confidence?: number;
  /** Below this effective sample size the estimate is unsupported; default 30. */
  minEffectiveSampleSize?: number;
}

export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE = 30;

/** One decision ready to be weighted: `probabilities` over its (distinct) candidates. */
interface Replayed {
  decision: LoggedDecision;
  probabilities: Map<string, number>;
  weight: number;
}

/** One term of an estimate: the outcome, its weight, and what the reward model says. */
interface Sample {
  weight: number;
  value: number;
  /** sum over candidates a of pi(a) x model(a): the model's view of the target policy. */
  direct: number;
  /** model(chosen): the part of the outcome the model already explains. */
  modelled: number;
}

/** Estimates success rate, mean cost and p95 latency of `target` from decisions logged under another policy. */
export function offPolicyEstimate(
  decisions: readonly LoggedDecision[],
  target: TargetProbabilities,
  options: OffPolicyOptions = {},
): ReplayEstimate {
  const estimator = options.estimator ?? 'dr';
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const minEss = options.minEffectiveSampleSize ?? DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE;
  if (!ESTIMATORS.includes(estimator)) throw new RangeError(`options.estimator must be one of ${ESTIMATORS}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError('options.confidence must be in (0, 1)');
  if (!(minEss >= 0)) throw new RangeError('options.minEffectiveSampleSize must be 0 or more');
  const z = normalQuantile(0.5 + confidence / 2);

  const replayed: Replayed[] = [];
  let withoutPropensity = 0;
  decisions.forEach((decision, i) => {
    const p = decision.propensity as number | null | undefined;
    if (p === undefined || p === null || Number.isNaN(p)) {
      withoutPropensity++;
      return;
    }
    if (!(p > 0 && p <= 1)) throw new RangeError(`decisions[${i}].propensity must be in (0, 1], got ${p}`);
    if (!decision.candidates.includes(decision.chosen)) {
      throw new RangeError(`decisions[${i}].chosen "${decision.chosen}" is not one of its candidates`);
    }
    const probabilities = targetProbabilities(decision, target(decision), i);
    replayed.push({ decision, probabilities, weight: (probabilities.get(decision.chosen) ?? 0) / p });
  });

  const weights = replayed.map((r) => r.weight);
  const sumW = sum(weights);
  const sumW2 = sum(weights.map((w) => w * w));
  const effectiveSampleSize = sumW2 > 0 ? sumW ** 2 / sumW2 : 0;
  const overlapping = weights.filter((w) => w > 0).length;

  const success = rewardModel(replayed, (d) => (d.outcome.success ? 1 : 0), 2);
  const successRate = estimate(
    replayed.map((r) => sample(r, success, r.decision.outcome.success ? 1 : 0)),
    estimator,
    z,
  );
  const costed = replayed.filter((r) => isNumber(r.decision.outcome.costUsd));
  const cost = rewardModel(costed, (d) => d.outcome.costUsd as number, 0);
  const meanCostUsd = estimate(
    costed.map((r) => sample(r, cost, r.decision.outcome.costUsd as number)),
    estimator,
    z,
  );
  const timed = replayed.filter((r) => isNumber(r.decision.outcome.latencyMs));

  const reasons: string[] = [];
  const considered = replayed.length;
  if (decisions.length === 0) reasons.push('no logged decisions to replay');
  if (withoutPropensity > 0) {
    reasons.push(
      `${withoutPropensity} of ${decisions.length} decisions have no logged propensity, so they cannot be reweighted`,
    );
  }
  if (considered > 0 && overlapping === 0) {
    reasons.push(`none of the ${considered} decisions chose what this policy would`);
  } else if (considered > 0 && effectiveSampleSize < minEss) {
    reasons.push(
      `only ${overlapping} of ${considered} decisions chose what this policy would; effective sample size ${effectiveSampleSize.toFixed(1)} is below ${minEss}`,
    );
  }

  const costs = decisions.map((d) => d.outcome.costUsd).filter(isNumber);
  return {
    estimator,
    decisions: decisions.length,
    overlapping,
    effectiveSampleSize,
    supported: reasons.length === 0,
    reason: reasons.length === 0 ? undefined : reasons.join('; '),
    successRate: successRate && clamp(successRate, 0, 1),
    meanCostUsd: meanCostUsd && clamp(meanCostUsd, 0, Number.POSITIVE_INFINITY),
    p95LatencyMs: weightedQuantile(
      timed.map((r) => ({ value: r.decision.outcome.latencyMs as number, weight: r.weight })),
      0.95,
    ),
    logged: {
      successRate:
        decisions.length === 0 ? null : decisions.filter((d) => d.outcome.success).length / decisions.length,
      meanCostUsd: costs.length === 0 ? null : sum(costs) / costs.length,
      p95LatencyMs: weightedQuantile(
        decisions
          .map((d) => d.outcome.latencyMs)
          .filter(isNumber)
          .map((value) => ({ value, weight: 1 })),
        0.95,
      ),
    },
  };
}

/** The target's probabilities over the decision's distinct candidates, checked. */
function targetProbabilities(
  decision: LoggedDecision,
  given: Record<string, number>,
  i: number,
): Map<string, number> {
  for (const [name, q] of Object.entries(given)) {
    if (!(q >= 0 && q <= 1)) {
      throw new RangeError(`target probability of "${name}" for decisions[${i}] must be in [0, 1], got ${q}`);
    }
  }
  const probabilities = new Map(decision.candidates.map((name) => [name, given[name] ?? 0]));
  const total = sum([...probabilities.values()]);
  // A little slack for probabilities computed in floating point (a softmax rarely sums to exactly 1).
  if (total > 1 + 1e-9) {
    throw new RangeError(`target probabilities for decisions[${i}] sum to ${total}, more than 1`);
  }
  return probabilities;
}

/** A reward model: the predicted outcome of sending a task of `taskType` to `service`. */
export type RewardModel = (taskType: string, service: string) => number;

/**
 * The mean logged outcome of each (task type, service) pair, shrunk towards the overall mean by
 * `priorWeight` pseudo-observations: a pair seen twice is not trusted at 0 or 1, and a pair never
 * seen is predicted at the overall mean. The decisions are weighted equally, not by propensity:
 * the model only has to be roughly right for doubly robust to gain, never exactly right.
 */
export function rewardModel(
  replayed: readonly { decision: LoggedDecision }[],
  outcome: (decision: LoggedDecision) => number,
  priorWeight: number,
): RewardModel {
  const pairs = new Map<string, { n: number; total: number }>();
  let total = 0;
  for (const { decision } of replayed) {
    const value = outcome(decision);
    total += value;
    const key = pairKey(decision.taskType, decision.chosen);
    const pair = pairs.get(key) ?? { n: 0, total: 0 };
    pair.n++;
    pair.total += value;
    pairs.set(key, pair);
  }
  const overall = replayed.length === 0 ? 0 : total / replayed.length;
  return (taskType, service) => {
    const pair = pairs.get(pairKey(taskType, service));
    if (pair === undefined) return overall;
    return (pair.total + priorWeight * overall) / (pair.n + priorWeight);
  };
}

const pairKey = (taskType: string, service: string) => `${taskType}\u0000${service}`;

function sample(r: Replayed, model: RewardModel, value: number): Sample {
  let direct = 0;
  for (const [service, q] of r.probabilities) direct += q * model(r.decision.taskType, service);
  return { weight: r.weight, value, direct, modelled: model(r.decision.taskType, r.decision.chosen) };
}

/**
 * The estimate and its normal-approximation interval, from the sample standard error of the
 * per-decision terms (for SNIPS, the delta-method terms w (r - estimate) / mean w, which have
 * mean zero and the estimator's first-order variance). Null when no decision has weight: the
 * logs then say nothing about the target's own choices.
 */
function estimate(samples: readonly Sample[], estimator: Estimator, z: number): Interval | null {
  const n = samples.length;
  const sumW = sum(samples.map((s) => s.weight));
  if (n === 0 || sumW === 0) return null;
  let value: number;
  let terms: number[];
  if (estimator === 'ips') {
    terms = samples.map((s) => s.weight * s.value);
    value = sum(terms) / n;
  } else if (estimator === 'snips') {
    value = sum(samples.map((s) => s.weight * s.value)) / sumW;
    const meanW = sumW / n;
    terms = samples.map((s) => (s.weight * (s.value - value)) / meanW);
  } else {
    terms = samples.map((s) => s.direct + s.weight * (s.value - s.modelled));
    value = sum(terms) / n;
  }
  const half = z * standardError(terms);
  return { estimate: value, low: value - half, high: value + half };
}

/** Sample standard deviation over sqrt(n); 0 for a single term, which has no spread to measure. */
function standardError(terms: readonly number[]): number {
  const n = terms.length;
  if (n < 2) return 0;
  const mean = sum(terms) / n;
  return Math.sqrt(sum(terms.map((t) => (t - mean) ** 2)) / (n - 1) / n);
}

/** A rate or a cost outside its range is impossible; an IPS estimate past it means a few heavy weights. */
function clamp(interval: Interval, min: number, max: number): Interval {
  const bound = (x: number) => Math.min(max, Math.max(min, x));
  return { estimate: bound(interval.estimate), low: bound(interval.low), high: bound(interval.high) };
}

/**
 * The smallest value whose cumulative share of the total weight reaches `q`: with equal weights
 * an ordinary (lower) empirical quantile, with importance weights the target policy's. Null
 * when no value has weight.
 */
export function weightedQuantile(
  points: readonly { value: number; weight: number }[],
  q: number,
): number | null {
  const sorted = points.filter((p) => p.weight > 0).sort((a, b) => a.value - b.value);
  const total = sum(sorted.map((p) => p.weight));
  if (total === 0) return null;
  let cumulative = 0;
  for (const point of sorted) {
    cumulative += point.weight;
    // Relative slack so that 19 of 20 equal weights reach 0.95 despite rounding.
    if (cumulative >= q * total * (1 - 1e-12)) return point.value;
  }
  return (sorted[sorted.length - 1] as { value: number }).value;
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9),
 * for the z of a confidence level.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return horner(C, q) / horner(D, q);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -horner(C, q) / horner(D, q);
  }
  const q = p - 0.5;
  const r = q * q;
  return (q * horner(A, r)) / horner(B, r);
}

const P_LOW = 0.02425;
const A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572, 1,
];
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416, 1];

/** The polynomial with these coefficients (highest power first) at x. */
const horner = (coefficients: readonly number[], x: number) =>
  coefficients.reduce((acc, k) => acc * x + k, 0);

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function isNumber(x: number | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
