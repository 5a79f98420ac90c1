/**
 * Outcome statistics, shaped so that storage can keep them with atomic `ADD` counters only:
 * counts, a latency sum and a latency histogram. Means and p95 are derived on read.
 */

/**
 * Upper bounds (ms) of the latency histogram buckets: 10 ms x sqrt(2)^i up to about an hour,
 * then one overflow bucket. For latencies of 10 ms and more, a quantile read from it is within a
 * factor sqrt(2) above the true value; anything faster reads as 10 ms.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = Array.from(
  { length: 38 },
  (_, i) => 10 * Math.SQRT2 ** i,
);

/** Index of the histogram bucket a latency falls in (the last index is the overflow bucket). */
export function latencyBucket(ms: number): number {
  const index = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return index === -1 ? LATENCY_BUCKETS_MS.length : index;
}

/** Counters for one (task type, service), over all time or one hour. */
export interface OutcomeCounters {
  count: number;
  successes: number;
  failures: number;
  timeouts: number;
  totalMs: number;
  /** Counts per latency bucket, indexed like {@link LATENCY_BUCKETS_MS} plus overflow. */
  histogram: number[];
  /** Calls whose cost is known (reported by the factory, or the service's `costPerCall`). */
  costed: number;
  /** Their summed cost (USD). */
  totalCost: number;
}

/** Calls and successes among the calls of tasks that had one feature (see `taskFeatures`). */
export interface FeatureCounters {
  count: number;
  successes: number;
}

export interface ServiceStats extends OutcomeCounters {
  taskType: string;
  service: string;
  /** Counters by task feature (`priority=high`, `keyword=video`...), where storage keeps them. */
  features?: Record<string, FeatureCounters> | undefined;
}

export function emptyCounters(): OutcomeCounters {
  return {
    count: 0,
    successes: 0,
    failures: 0,
    timeouts: 0,
    totalMs: 0,
    histogram: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
    costed: 0,
    totalCost: 0,
  };
}

/** Sums counters, e.g. all services of a type, or the hours of a window. */
export function mergeCounters(items: readonly OutcomeCounters[]): OutcomeCounters {
  const total = emptyCounters();
  for (const item of items) {
    total.count += item.count;
    total.successes += item.successes;
    total.failures += item.failures;
    total.timeouts += item.timeouts;
    total.totalMs += item.totalMs;
    total.costed += item.costed;
    total.totalCost += item.totalCost;
    item.histogram.forEach((n, i) => {
      total.histogram[i] = (total.histogram[i] ?? 0) + n;
    });
  }
  return total;
}

export function meanMs(counters: OutcomeCounters): number | undefined {
  return counters.count === 0 ? undefined : counters.totalMs / counters.count;
}

/** The mean cost of a call (USD), among the calls whose cost is known. */
export function meanCost(counters: Pick<OutcomeCounters, 'costed' | 'totalCost'>): number | undefined {
  return counters.costed === 0 ? undefined : counters.totalCost / counters.costed;
}

/** One call's feature counters: a call, and a success when it succeeded, for each of its task's features. */
export function callFeatures(
  call: Pick<CallObservation, 'features' | 'success'>,
): Record<string, FeatureCounters> {
  return Object.fromEntries(
    (call.features ?? []).map((f) => [f, { count: 1, successes: call.success ? 1 : 0 }]),
  );
}

/** Feature counters summed, e.g. over the minutes of a window. */
export function mergeFeatures(
  items: ReadonlyArray<Record<string, FeatureCounters> | undefined>,
): Record<string, FeatureCounters> {
  const total: Record<string, FeatureCounters> = {};
  for (const item of items) {
    for (const [feature, c] of Object.entries(item ?? {})) {
      const seen = total[feature] ?? { count: 0, successes: 0 };
      total[feature] = { count: seen.count + c.count, successes: seen.successes + c.successes };
    }
  }
  return total;
}

/** The latency below which `quantile` of the calls finished, as the bound of its histogram bucket. */
export function latencyQuantileMs(counters: OutcomeCounters, quantile = 0.95): number | undefined {
  const observed = counters.histogram.reduce((a, b) => a + b, 0);
  if (observed === 0) return undefined;
  const rank = Math.ceil(quantile * observed);
  let seen = 0;
  for (let i = 0; i < counters.histogram.length; i++) {
    seen += counters.histogram[i] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

function roundMs(ms: number | undefined): number | undefined {
  return ms === undefined || !Number.isFinite(ms) ? ms : Math.round(ms);
}

export function failureRate(counters: OutcomeCounters): number | undefined {
  return counters.count === 0 ? undefined : counters.failures / counters.count;
}

/** A readable digest of counters, for APIs and reports. */
export interface CountersSummary {
  count: number;
  successes: number;
  failures: number;
  timeouts: number;
  successRate: number | undefined;
  meanMs: number | undefined;
  p95Ms: number | undefined;
}

export function summarizeCounters(counters: OutcomeCounters): CountersSummary {
  return {
    count: counters.count,
    successes: counters.successes,
    failures: counters.failures,
    timeouts: counters.timeouts,
    successRate: counters.count === 0 ? undefined : counters.successes / counters.count,
    meanMs: meanMs(counters),
    p95Ms: roundMs(latencyQuantileMs(counters, 0.95)),
  };
}

/**
 * One factory call as the statistics learn it. It is written once, by whoever settled the call
 * (the worker for an answer, the callback handler for a callback), after the task record that
 * holds the call was saved: a duplicate delivery never reaches the write, so a call is counted at
 * most once.
 */
export interface CallObservation {
  taskType: string;
  service: string;
  success: boolean;
  timedOut: boolean;
  latencyMs: number;
  /** When the call ended (ISO). */
  at: string;
  /** On the first call of a routing decision: the strategy that chose the service. */
  routedBy?: string | undefined;
  /** What the call cost (USD): the factory's report, else the service's `costPerCall`. */
  cost?: number | undefined;
  /** The task's features (see `taskFeatures`): contextual routing learns per feature. */
  features?: readonly string[] | undefined;
}

/** Counters of one (task type, service) over one minute, as the per-call write keeps them. */
export interface MinuteCounters extends ServiceStats {
  /** `yyyy-mm-ddThh:mm` (UTC). */
  minute: string;
  /** Routing decisions that chose this service, in all and by strategy. */
  routes: number;
  byStrategy: Record<string, number>;
}

/** The minute (`yyyy-mm-ddThh:mm`, UTC) an ISO time falls in. */
export function minuteOf(iso: string): string {
  return iso.slice(0, 16);
}

/** Adds one observation to counters, in place. */
export function addObservation(counters: OutcomeCounters, call: CallObservation): void {
  counters.count++;
  if (call.success) counters.successes++;
  else counters.failures++;
  if (call.timedOut) counters.timeouts++;
  counters.totalMs += call.latencyMs;
  if (call.cost !== undefined) {
    counters.costed++;
    counters.totalCost += call.cost;
  }
  const bucket = latencyBucket(call.latencyMs);
  counters.histogram[bucket] = (counters.histogram[bucket] ?? 0) + 1;
}

/** Sums counters per service, keeping the task type and service names. */
export function sumByService(taskType: string, rows: readonly ServiceStats[]): ServiceStats[] {
  const groups = new Map<string, ServiceStats[]>();
  for (const row of rows) {
    const group = groups.get(row.service);
    if (group) group.push(row);
    else groups.set(row.service, [row]);
  }
  return [...groups].map(([service, group]) => {
    const merged: ServiceStats = { taskType, service, ...mergeCounters(group) };
    if (group.some((row) => row.features !== undefined))
      merged.features = mergeFeatures(group.map((row) => row.features));
    return merged;
  });
}
