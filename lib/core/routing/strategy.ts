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
}

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
