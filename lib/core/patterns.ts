/** Success/total counts for one feature of results of one task type (see `patternKeys`). */
export interface PatternCounters {
  taskType: string;
  key: string;
  total: number;
  successes: number;
}

/** A feature that goes with success often enough, on enough evidence, to be worth knowing. */
export interface SuccessPattern extends PatternCounters {
  kind: 'service' | 'hour' | 'param';
  /** Lower bound of the 95 % Wilson interval of the success rate: cautious with little evidence. */
  successLowerBound: number;
  successRate: number;
}

export const PATTERN_MIN_SUPPORT = 3;
export const PATTERN_MIN_LOWER_BOUND = 0.5;

/** Wilson score lower bound: the success rate we are 95 % sure the feature at least has. */
export function wilsonLowerBound(successes: number, total: number, z = 1.96): number {
  if (total === 0) return 0;
  const p = successes / total;
  const denominator = 1 + (z * z) / total;
  const centre = p + (z * z) / (2 * total);
  const margin = z * Math.sqrt((p * (1 - p)) / total + (z * z) / (4 * total * total));
  return (centre - margin) / denominator;
}

/** The learned success patterns among counters, best first. */
export function successPatterns(counters: readonly PatternCounters[]): SuccessPattern[] {
  return counters
    .filter((c) => c.total >= PATTERN_MIN_SUPPORT)
    .map((c) => ({
      ...c,
      kind: c.key.slice(0, c.key.indexOf(':')) as SuccessPattern['kind'],
      successRate: round(c.successes / c.total),
      successLowerBound: round(wilsonLowerBound(c.successes, c.total)),
    }))
    .filter((p) => p.successLowerBound >= PATTERN_MIN_LOWER_BOUND)
    .sort((a, b) => b.successLowerBound - a.successLowerBound || b.total - a.total);
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
