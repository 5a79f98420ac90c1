/**
 * In-memory fixtures shared by the unit tests: services, tasks, statistics and a routing context.
 * Nothing here touches storage; randomness and time come from the deterministic helpers.
 */
import type { Decision } from '../../lib/core/brain.ts';
import { type RetryPolicyInput, retryPolicy } from '../../lib/core/retry-policy.ts';
import type { RoutingDecision } from '../../lib/core/routing/router.ts';
import type { RoutingContext } from '../../lib/core/routing/strategy.ts';
import type { StrategyName } from '../../lib/core/routing/strategy-name.ts';
import type { Service } from '../../lib/core/service.ts';
import { emptyCounters, latencyBucket, type ServiceStats } from '../../lib/core/statistics.ts';
import { type Task, type TaskInput, taskSchema } from '../../lib/core/task.ts';
import { rejection } from '../helpers/errors.ts';
import { manualClock, seededRandom } from '../helpers/stack.ts';

export { manualClock, rejection, seededRandom };

/** A registered service with sensible defaults: enabled, healthy, idle, weight 1. */
export function makeService(name: string, overrides: Partial<Service> = {}): Service {
  return {
    name,
    endpoint: `http://${name}:8080`,
    capabilities: ['generic'],
    weight: 1,
    enabled: true,
    health: 'healthy',
    load: 0,
    version: 1,
    updatedAt: '2026-01-15T10:00:00.000Z',
    ...overrides,
  };
}

/** A task as the router sees it (parsed, defaults filled). */
export function makeTask(overrides: Partial<TaskInput> = {}): Task {
  return taskSchema.parse({ id: 'task-1', type: 'generic', ...overrides });
}

/** The brain's decision for task `task-1` of type `generic`, choosing svc-a with `timeoutSeconds`. */
export function makeDecision(timeoutSeconds: number, overrides: Partial<Decision> = {}): Decision {
  return {
    taskId: 'task-1',
    taskType: 'generic',
    priority: 'normal',
    priorityScore: 0,
    selectedService: 'svc-a',
    confidence: 0,
    resources: { cpu: 1, memoryMb: 1_024, timeoutSeconds },
    alternatives: [],
    reason: 'test',
    ...overrides,
  };
}

/** The router's decision for task `task-1`: `primary` at `http://<primary>:8080`, then `fallbacks`. */
export function makeRoute(
  primary: string,
  options: {
    fallbacks?: string[];
    tried?: string[];
    policy?: RetryPolicyInput;
    retrySchedule?: number[];
    strategy?: StrategyName;
  } = {},
): RoutingDecision {
  return {
    taskId: 'task-1',
    taskType: 'generic',
    strategy: options.strategy ?? 'capability',
    primary,
    endpoint: `http://${primary}:8080`,
    fallbacks: options.fallbacks ?? [],
    tried: options.tried ?? [],
    retryPolicy: retryPolicy(options.policy ?? {}),
    retrySchedule: options.retrySchedule ?? [],
    candidates: [],
    explored: false,
    reason: 'test',
    decidedAt: '2026-01-15T10:00:00.000Z',
  };
}

export interface StatsSpec {
  successes?: number;
  failures?: number;
  timeouts?: number;
  /** Latencies of the calls; when given, `totalMs` and the histogram are built from them. */
  latenciesMs?: readonly number[];
  /** Latency of every call when `latenciesMs` is not given (default 0: no latency recorded). */
  eachMs?: number;
}

/**
 * Statistics of one service for one task type. `count` is successes + failures; timeouts are a
 * subset of failures, as the statistics store records them.
 */
export function makeStats(service: string, taskType: string, spec: StatsSpec = {}): ServiceStats {
  const successes = spec.successes ?? 0;
  const failures = spec.failures ?? 0;
  const count = successes + failures;
  const counters = emptyCounters();
  const latencies = spec.latenciesMs ?? (spec.eachMs === undefined ? [] : new Array(count).fill(spec.eachMs));
  for (const ms of latencies) {
    const bucket = latencyBucket(ms);
    counters.histogram[bucket] = (counters.histogram[bucket] ?? 0) + 1;
    counters.totalMs += ms;
  }
  return {
    ...counters,
    count,
    successes,
    failures,
    timeouts: spec.timeouts ?? 0,
    taskType,
    service,
  };
}

/** A tiny in-memory routing context: seeded randomness, per-key counters, fixed statistics. */
export function makeContext(
  options: { seed?: number; random?: () => number; stats?: readonly ServiceStats[] } = {},
): RoutingContext & { ticks: Map<string, number>; statsRequests: string[] } {
  const random = options.random ?? seededRandom(options.seed ?? 42);
  const ticks = new Map<string, number>();
  const statsRequests: string[] = [];
  return {
    ticks,
    statsRequests,
    random,
    async nextTick(key) {
      const next = (ticks.get(key) ?? 0) + 1;
      ticks.set(key, next);
      return next;
    },
    async statsFor(taskType) {
      statsRequests.push(taskType);
      return (options.stats ?? []).filter((s) => s.taskType === taskType);
    },
  };
}
