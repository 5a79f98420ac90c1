import type { OutcomeCounters } from './statistics.ts';

/**
 * Confidence in a choice is the posterior mean of the chosen service's success probability under
 * a Beta prior with mean 0.7 and the weight of two observations: Beta(1.4, 0.6).
 * With no history it is exactly 0.7; ten successes in a row give 0.95; a service that succeeds
 * half the time converges to 0.5. Consistent evidence raises it, contrary evidence lowers it.
 */
export const CONFIDENCE_PRIOR = { alpha: 1.4, beta: 0.6 } as const;

export function confidenceFrom(
  counters: Pick<OutcomeCounters, 'successes' | 'failures'> | undefined,
): number {
  const successes = counters?.successes ?? 0;
  const failures = counters?.failures ?? 0;
  const alpha = CONFIDENCE_PRIOR.alpha + successes;
  const beta = CONFIDENCE_PRIOR.beta + failures;
  return round(alpha / (alpha + beta));
}

/**
 * Both shapes at least this large: Beta is drawn from its normal approximation (same mean and
 * variance), which is accurate there and several times cheaper than two gamma draws.
 */
const NORMAL_APPROXIMATION_FROM = 50;

/**
 * Draw from Beta(alpha, beta) with an injected uniform source: Cheng's algorithm BB when both
 * shapes exceed 1 (one rejection loop instead of two gamma draws), else two gamma draws.
 */
export function sampleBeta(alpha: number, beta: number, random: () => number): number {
  if (alpha >= NORMAL_APPROXIMATION_FROM && beta >= NORMAL_APPROXIMATION_FROM) {
    const n = alpha + beta;
    const mean = alpha / n;
    const draw = mean + Math.sqrt((mean * (1 - mean)) / (n + 1)) * standardNormal(random);
    return Math.min(1, Math.max(0, draw));
  }
  if (alpha > 1 && beta > 1) return chengBB(alpha, beta, random);
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  return x / (x + y);
}

const LOG_4 = Math.log(4);
const ONE_PLUS_LOG_5 = 1 + Math.log(5);

/**
 * R. C. H. Cheng, "Generating beta variates with nonintegral shape parameters" (1978), algorithm
 * BB for shapes above 1, as R's `rbeta` implements it: the smaller shape is `a`, and the draw is
 * mirrored when it belongs to `beta`.
 */
function chengBB(alpha: number, beta: number, random: () => number): number {
  const a = Math.min(alpha, beta);
  const b = Math.max(alpha, beta);
  const sum = a + b;
  const scale = Math.sqrt((sum - 2) / (2 * a * b - sum));
  const gamma = a + 1 / scale;
  let w: number;
  for (;;) {
    const u1 = uniformOpen(random);
    const u2 = random();
    const v = scale * Math.log(u1 / (1 - u1));
    w = Math.min(a * Math.exp(v), Number.MAX_VALUE);
    const z = u1 * u1 * u2;
    const r = gamma * v - LOG_4;
    const s = a + r - w;
    if (s + ONE_PLUS_LOG_5 >= 5 * z) break;
    const t = Math.log(z);
    if (s > t) break;
    if (r + sum * Math.log(sum / (b + w)) >= t) break;
  }
  return alpha === a ? w / (b + w) : b / (b + w);
}

/** Marsaglia and Tsang's method; shape < 1 is boosted with the usual u^(1/shape) step. */
function sampleGamma(shape: number, random: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, random) * uniformOpen(random) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = uniformOpen(random);
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}

function standardNormal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(uniformOpen(random))) * Math.cos(2 * Math.PI * random());
}

/** A uniform draw in (0, 1): logarithms of 0 are avoided. */
function uniformOpen(random: () => number): number {
  let u = random();
  while (u <= 0) u = random();
  return u;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
