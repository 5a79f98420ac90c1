import type { Service } from '../service.ts';
import type { ServiceStats } from '../statistics.ts';
import type { Task } from '../task.ts';

/** What a strategy may consult besides the candidates: shared counters, randomness, learned statistics. */
export interface RoutingContext {
  /** Uniform draw in [0, 1). Injected so that routing is reproducible in tests and simulations. */
  random(): number;
  /** Next value of a counter shared by every router instance (an atomic counter in storage). */
  nextTick(key: string): Promise<number>;
  /** Learned statistics of each service for a task type (all time). */
  statsFor(taskType: string): Promise<ServiceStats[]>;
  /** The same over a recent window, where storage keeps one: learned routing then follows change quickly. */
  recentStatsFor?(taskType: string): Promise<ServiceStats[]>;
  /** The active policy's settings for the strategies that learn (defaults: {@link DEFAULT_TUNING}). */
  tuning?: RoutingTuning | undefined;
}

/** What a routing policy sets for the learned and cost strategies. */
export interface RoutingTuning {
  /** Utility lost per USD of a call's expected cost (learned strategy); 0 ignores cost. */
  costWeight: number;
  /** The cost strategy's bar: the cheapest service whose expected success is at least this. */
  minSuccess: number;
  /** Whether the learned strategy may use task features where they predict the best service. */
  contextual: boolean;
  /** Whether the learned strategy explores (Thompson draws); off, it ranks by expected utility. */
  explore: boolean;
}

export const DEFAULT_TUNING: RoutingTuning = Object.freeze({
  costWeight: 0,
  minSuccess: 0.9,
  contextual: true,
  explore: true,
});

/** One candidate as a strategy ranked it. `score` is strategy-specific: higher is better. */
export interface RankedCandidate {
  service: Service;
  score?: number;
}

export interface Ranking {
  ranked: RankedCandidate[];
  /** True when a learning strategy chose something other than its current best estimate. */
  explored?: boolean;
  /** A sentence saying why the first candidate is first. */
  because: string;
  /**
   * The probability each candidate had of coming first, for strategies that draw (off-policy
   * evaluation needs it); a strategy without it is deterministic given its inputs.
   */
  probabilities?: Record<string, number> | undefined;
}

/** Which services a strategy lets in, replacing the default capability check. */
export interface Admission {
  accepts(service: Service): boolean;
  describe: string;
  /** The content rule that fired, kept with the decision so it can be explained later. */
  rule?: { id: string; name: string; priority: number } | undefined;
}

/** A way to order eligible services; the first becomes the primary, the rest the fallbacks. */
export interface RoutingStrategy {
  readonly name: string;
  /** Overrides the capability filter (content rules route by target, not by capability). */
  admission?(task: Task): Admission;
  rank(candidates: readonly Service[], task: Task, context: RoutingContext): Promise<Ranking>;
}

/** Stable alphabetical order: the tie-breaker every strategy shares, so results are deterministic. */
export function byName(a: Service, b: Service): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
