import * as z from 'zod';
import { NoRouteError, ValidationError } from '../errors.ts';
import { type RetryPolicy, type RetryPolicyInput, retryPolicy, retrySchedule } from '../retry-policy.ts';
import { effectiveHealth, eligibleServices, type HealthState, isCapable, type Service } from '../service.ts';
import { type Task, type TaskInput, taskSchema } from '../task.ts';
import { parseInput } from '../validation.ts';
import { capabilityBased } from './capability.ts';
import { contentBased, type RoutingRuleInput } from './content-rules.ts';
import { learned } from './learned.ts';
import { leastLoaded, random, roundRobin, weighted } from './load-balancing.ts';
import { priorityBased } from './priority-based.ts';
import type { RoutingContext, RoutingStrategy } from './strategy.ts';

export const STRATEGY_NAMES = [
  'round-robin',
  'random',
  'least-loaded',
  'weighted',
  'capability',
  'priority',
  'content',
  'learned',
] as const;
export const strategyName = z.enum(STRATEGY_NAMES);
export type StrategyName = z.output<typeof strategyName>;

/** Where the router reads services and writes its statistics. Implemented by `lib/store`. */
export interface RouterPorts extends RoutingContext {
  listServices(): Promise<Service[]>;
  recordRoute(strategy: string, service: string): Promise<void>;
  /** The route counters as recorded: `total`, `strategy:<name>`, `service:<name>`. */
  routeCounters(): Promise<Record<string, number>>;
  now(): Date;
}

/** How many tasks were routed, to which services and by which strategies. */
export interface RoutingStats {
  totalRoutes: number;
  serviceDistribution: Record<string, number>;
  strategyDistribution: Record<string, number>;
}

export interface RouterOptions {
  strategy?: StrategyName;
  rules?: readonly RoutingRuleInput[];
  defaultTarget?: string;
  retryPolicy?: RetryPolicyInput;
}

/** A candidate as it stood when the decision was made, kept so the decision can be explained. */
export interface CandidateSnapshot {
  name: string;
  health: HealthState;
  load: number;
  score?: number | undefined;
}

/** Where a task goes: the primary, the ordered fallbacks, and everything needed to explain why. */
export interface RoutingDecision {
  taskId: string;
  taskType: string;
  strategy: StrategyName;
  primary: string;
  endpoint: string;
  fallbacks: string[];
  /** Services already tried (and failed) or skipped as unavailable at failover, in order. */
  tried: string[];
  retryPolicy: RetryPolicy;
  /** Delays in seconds before each retry of one service. */
  retrySchedule: number[];
  candidates: CandidateSnapshot[];
  rule?: { id: string; name: string; priority: number } | undefined;
  explored: boolean;
  reason: string;
  decidedAt: string;
}

/** The outcome of {@link handleFailure}: the next service to try, or the end of the road. */
export type FailoverResult =
  | { exhausted: false; decision: RoutingDecision }
  | { exhausted: true; tried: string[]; reason: string };

/** Routes tasks to registered services. Stateless itself: shared state lives behind the ports. */
export class Router {
  readonly #ports: RouterPorts;
  readonly #defaultStrategy: StrategyName;
  readonly #strategies: Record<StrategyName, RoutingStrategy>;
  readonly #retryPolicy: RetryPolicy;

  constructor(ports: RouterPorts, options: RouterOptions = {}) {
    this.#ports = ports;
    this.#defaultStrategy = parseInput(strategyName, options.strategy ?? 'capability', 'strategy');
    this.#retryPolicy = retryPolicy(options.retryPolicy);
    const content = contentBased({ rules: options.rules ?? [], defaultTarget: options.defaultTarget });
    this.#strategies = {
      'round-robin': roundRobin,
      random,
      'least-loaded': leastLoaded,
      weighted,
      capability: capabilityBased,
      priority: priorityBased,
      content,
      learned,
    };
  }

  /**
   * Finds the services that can take `taskInput`, keeps the enabled and healthy ones (degraded
   * only when nothing healthy is left), orders them with the strategy and returns the decision.
   * @throws ValidationError for a malformed task, NoRouteError when no service can take it.
   */
  async route(
    taskInput: TaskInput,
    strategy: StrategyName = this.#defaultStrategy,
  ): Promise<RoutingDecision> {
    const task = parseInput(taskSchema, taskInput, 'task');
    const chosen = this.#strategies[parseInput(strategyName, strategy, 'strategy')];
    const services = await this.#ports.listServices();
    const now = this.#ports.now();
    const admission = chosen.admission?.(task);
    const accepts = admission?.accepts ?? ((s: Service) => isCapable(s, task));
    const eligible = eligibleServices(services, accepts, now);
    if (eligible.length === 0)
      throw new NoRouteError(noRouteReason(services, task, accepts, now, admission?.describe));

    const ranking = await chosen.rank(eligible, task, this.#ports);
    const [primary, ...rest] = ranking.ranked;
    if (primary === undefined)
      throw new NoRouteError(`strategy ${chosen.name} ranked no service for ${task.type}`);
    await this.#ports.recordRoute(chosen.name, primary.service.name);
    return {
      taskId: task.id,
      taskType: task.type,
      strategy: chosen.name as StrategyName,
      primary: primary.service.name,
      endpoint: primary.service.endpoint,
      fallbacks: rest.map((c) => c.service.name),
      tried: [],
      retryPolicy: this.#retryPolicy,
      retrySchedule: retrySchedule(this.#retryPolicy),
      candidates: ranking.ranked.map(({ service, score }) => ({
        name: service.name,
        health: effectiveHealth(service, now),
        load: service.load,
        score,
      })),
      rule: admission?.rule,
      explored: ranking.explored ?? false,
      reason: ranking.because,
      decidedAt: now.toISOString(),
    };
  }

  async stats(): Promise<RoutingStats> {
    const counters = await this.#ports.routeCounters();
    const pick = (prefix: string) =>
      Object.fromEntries(
        Object.entries(counters)
          .filter(([key]) => key.startsWith(prefix))
          .map(([key, n]) => [key.slice(prefix.length), n]),
      );
    return {
      totalRoutes: counters.total ?? 0,
      serviceDistribution: pick('service:'),
      strategyDistribution: pick('strategy:'),
    };
  }

  /** {@link handleFailure} with the registry as it is now. */
  async failover(decision: RoutingDecision): Promise<FailoverResult> {
    return handleFailure(decision, await this.#ports.listServices(), this.#ports.now());
  }
}

/**
 * Moves a decision to its next fallback after the current primary failed. Fallbacks are
 * re-checked against the registry as it is now: one that has since been disabled, removed or
 * marked unhealthy is skipped, so a failover never lands on a service known to be down.
 */
export function handleFailure(
  decision: RoutingDecision,
  services: readonly Service[],
  now: Date,
): FailoverResult {
  assertDecision(decision);
  const byName = new Map(services.map((s) => [s.name, s]));
  const tried = [...decision.tried, decision.primary];
  const usable = (name: string) => {
    const service = byName.get(name);
    return service?.enabled === true && effectiveHealth(service, now) !== 'unhealthy';
  };
  const index = decision.fallbacks.findIndex(usable);
  if (index === -1) {
    return { exhausted: true, tried, reason: `no fallback left after ${tried.join(', ')}` };
  }
  const next = byName.get(decision.fallbacks[index] as string) as Service;
  const skipped = decision.fallbacks.slice(0, index);
  return {
    exhausted: false,
    decision: {
      ...decision,
      primary: next.name,
      endpoint: next.endpoint,
      fallbacks: decision.fallbacks.slice(index + 1),
      tried: [...tried, ...skipped],
      reason: `failover from ${decision.primary} to ${next.name}${skipped.length > 0 ? ` (skipped unavailable ${skipped.join(', ')})` : ''}`,
    },
  };
}

function noRouteReason(
  services: readonly Service[],
  task: Task,
  accepts: (s: Service) => boolean,
  now: Date,
  admission: string | undefined,
): string {
  const admitted = services.filter(accepts);
  const what = `task type '${task.type}'${task.action ? ` / action '${task.action}'` : ''}`;
  if (admitted.length === 0) {
    return admission
      ? `no registered service for ${what}: ${admission}`
      : `no registered service can handle ${what}`;
  }
  const disabled = admitted.filter((s) => !s.enabled).map((s) => s.name);
  const unhealthy = admitted
    .filter((s) => s.enabled && effectiveHealth(s, now) === 'unhealthy')
    .map((s) => s.name);
  return `no available service for ${what}: disabled [${disabled.join(', ')}], unhealthy [${unhealthy.join(', ')}]`;
}

/** Guards against a decision object that did not come from {@link Router.route}. */
function assertDecision(decision: RoutingDecision): void {
  if (typeof decision?.primary !== 'string' || !Array.isArray(decision.fallbacks)) {
    throw new ValidationError([
      { field: 'decision', message: 'must be a routing decision returned by route()' },
    ]);
  }
}
