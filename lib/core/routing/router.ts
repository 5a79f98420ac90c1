import { NoRouteError, ValidationError } from '../errors.ts';
import { type RetryPolicy, type RetryPolicyInput, retrySchedule } from '../retry-policy.ts';
import { effectiveHealth, eligibleServices, type HealthState, isCapable, type Service } from '../service.ts';
import { emptyCounters, type ServiceStats } from '../statistics.ts';
import { type Task, type TaskInput, taskSchema } from '../task.ts';
import { parseInput } from '../validation.ts';
import { capabilityBased } from './capability.ts';
import { contentBased, type RoutingRuleInput } from './content-rules.ts';
import { cheapest } from './cost.ts';
import { evidenceOf, expectedUtility, learned } from './learned.ts';
import { leastLoaded, random, roundRobin, weighted } from './load-balancing.ts';
import {
  type ActivePolicy,
  isEjected,
  type RoutingPolicy,
  retryPolicyFor,
  routingPolicySchema,
  strategyFor,
  tuningOf,
} from './policy.ts';
import { priorityBased } from './priority-based.ts';
import { type RoutingStats, routingStats } from './routing-stats.ts';
import {
  type Admission,
  byName,
  type RoutingContext,
  type RoutingStrategy,
  type RoutingTuning,
} from './strategy.ts';
import { type StrategyName, strategyName } from './strategy-name.ts';

export { STRATEGY_NAMES, type StrategyName, strategyName } from './strategy-name.ts';

/** What the router reads. Implemented over `lib/store`, with per-process caching in a worker. */
export interface RouterPorts extends Omit<RoutingContext, 'nextTick'> {
  listServices(): Promise<Service[]>;
  /** The registry as it is now, for failover (defaults to `listServices`). */
  freshServices?(): Promise<Service[]>;
  /** The route counters, from the statistics: `total`, `strategy:<name>`, `service:<name>`. */
  routeCounters?(): Promise<Record<string, number>>;
  /**
   * The routing policy in force (read through a short per-process cache); without it the router
   * keeps the policy its options describe, as version 0 (also when this answers undefined).
   */
  activePolicy?(): Promise<ActivePolicy | undefined>;
  now(): Date;
}

export { type RoutingStats, routingStats } from './routing-stats.ts';

/** The built-in policy (version 0): what routing does before anyone stores a policy. */
export interface RouterOptions {
  strategy?: StrategyName;
  rules?: readonly RoutingRuleInput[];
  defaultTarget?: string;
  retryPolicy?: RetryPolicyInput;
}

/** The policy {@link RouterOptions} describe. */
export function policyFromOptions(options: RouterOptions = {}): RoutingPolicy {
  return parseInput(
    routingPolicySchema,
    {
      defaultStrategy: options.strategy ?? 'capability',
      rules: options.rules ? [...options.rules] : [],
      defaultTarget: options.defaultTarget,
      retry: { default: options.retryPolicy ?? {} },
    },
    'router',
  );
}

/** A candidate as it stood when the decision was made, kept so the decision can be explained. */
export interface CandidateSnapshot {
  name: string;
  health: HealthState;
  load: number;
  score?: number | undefined;
  /** The chance the strategy gave this candidate of coming first. */
  probability?: number | undefined;
}

/**
 * What off-policy evaluation needs of a first decision, kept unchanged through failovers: the
 * candidates, the one chosen and the probability the policy in force gave it.
 */
export interface LoggedChoice {
  candidates: string[];
  chosen: string;
  propensity: number;
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
  /** The routing policy version the decision was made under (0: the built-in default). */
  policyVersion?: number | undefined;
  /** The only services it may use (a budgeted run's step): failover keeps to them. */
  allowed?: string[] | undefined;
  logged?: LoggedChoice | undefined;
}

/** A policy ready to route with: its strategies (content rules compiled) and tuning. */
interface CompiledPolicy extends ActivePolicy {
  strategies: Record<StrategyName, RoutingStrategy>;
  tuning: RoutingTuning;
}

/** The outcome of {@link failoverDecision}: the next service to try, or the end of the road. */
export type FailoverResult =
  | { exhausted: false; decision: RoutingDecision }
  | { exhausted: true; tried: string[]; reason: string };

/** Routes tasks to registered services. Stateless itself: shared state lives behind the ports. */
export class Router {
  readonly #ports: RouterPorts;
  readonly #base: CompiledPolicy;
  #compiled: CompiledPolicy;
  readonly #context: RoutingContext;
  /** Round-robin turns of this process; every process starts at a random point of the rotation. */
  readonly #turns = new Map<string, number>();

  constructor(ports: RouterPorts, options: RouterOptions = {}) {
    this.#ports = ports;
    this.#context = {
      random: () => ports.random(),
      statsFor: (type) => ports.statsFor(type),
      recentStatsFor:
        ports.recentStatsFor &&
        ((type) => (ports.recentStatsFor as (t: string) => Promise<ServiceStats[]>)(type)),
      nextTick: async (key) => {
        const tick = this.#turns.get(key) ?? Math.floor(ports.random() * 1_000_000);
        this.#turns.set(key, tick + 1);
        return tick;
      },
    };
    parseInput(strategyName, options.strategy ?? 'capability', 'strategy');
    this.#base = compile({ version: 0, policy: policyFromOptions(options) });
    this.#compiled = this.#base;
  }

  /** The policy in force, compiled once per version. */
  async #policy(): Promise<CompiledPolicy> {
    const active = this.#ports.activePolicy ? await this.#ports.activePolicy() : undefined;
    if (!active || active.version === 0) return this.#base;
    if (active.version !== this.#compiled.version) this.#compiled = compile(active);
    return this.#compiled;
  }

  /** The policy routing uses now: its version and content. */
  async activePolicy(): Promise<ActivePolicy> {
    const { version, policy } = await this.#policy();
    return { version, policy };
  }

  /**
   * Finds the services that can take `taskInput`, keeps the enabled and healthy ones (degraded
   * only when nothing healthy is left), orders them with the strategy and returns the decision.
   * @throws ValidationError for a malformed task, NoRouteError when no service can take it.
   */
  async route(taskInput: TaskInput, strategy?: StrategyName): Promise<RoutingDecision> {
    return this.routeTask(
      parseInput(taskSchema, taskInput, 'task'),
      strategy === undefined ? undefined : parseInput(strategyName, strategy, 'strategy'),
    );
  }

  /**
   * {@link route} for a task and strategy that are already validated (the worker's). Without a
   * strategy, the active policy's default applies.
   */
  async routeTask(
    task: Task,
    strategy?: StrategyName,
    options: { only?: readonly string[] | undefined } = {},
  ): Promise<RoutingDecision> {
    const policy = await this.#policy();
    const chosen = policy.strategies[strategy ?? strategyFor(policy.policy, task.type)];
    let services = await this.#ports.listServices();
    const now = this.#ports.now();
    const admission = chosen.admission?.(task);
    const accepts = admits(policy.policy, task, admission, options.only);
    let eligible = eligibleServices(services, accepts, now);
    // A cached registry may predate the service that can take this task: read it again first.
    if (eligible.length === 0 && this.#ports.freshServices) {
      services = await this.#ports.freshServices();
      eligible = eligibleServices(services, accepts, now);
    }
    if (eligible.length === 0)
      throw new NoRouteError(noRouteReason(services, task, accepts, now, admission?.describe));

    const ranking = await chosen.rank(eligible, task, { ...this.#context, tuning: policy.tuning });
    const [primary, ...rest] = ranking.ranked;
    if (primary === undefined)
      throw new NoRouteError(`strategy ${chosen.name} ranked no service for ${task.type}`);
    const probabilities = ranking.probabilities ?? { [primary.service.name]: 1 };
    const retry = retryPolicyFor(policy.policy, task.type, primary.service.name);
    return {
      taskId: task.id,
      taskType: task.type,
      strategy: chosen.name as StrategyName,
      primary: primary.service.name,
      endpoint: primary.service.endpoint,
      fallbacks: rest.map((c) => c.service.name),
      tried: [],
      retryPolicy: retry,
      retrySchedule: retrySchedule(retry),
      candidates: ranking.ranked.map(({ service, score }) => ({
        name: service.name,
        health: effectiveHealth(service, now),
        load: service.load,
        score,
        probability: probabilities[service.name] ?? 0,
      })),
      rule: admission?.rule,
      explored: ranking.explored ?? false,
      reason: ranking.because,
      decidedAt: now.toISOString(),
      policyVersion: policy.version,
      ...(options.only ? { allowed: [...options.only] } : {}),
      logged: {
        candidates: ranking.ranked.map(({ service }) => service.name),
        chosen: primary.service.name,
        propensity: probabilities[primary.service.name] ?? 1,
      },
    };
  }

  /**
   * How routing under `policy` (compiled once) would choose among logged candidates: for a task,
   * the probability of each candidate coming first, with the statistics as they are now. What
   * replay weighs a logged decision by; deterministic strategies give their first choice 1. The
   * candidates were capable when logged, so only the strategy's admission and the policy's
   * ejections filter them.
   */
  choiceProbabilities(
    policy: ActivePolicy,
  ): (
    task: Task,
    candidates: readonly Service[],
    strategy?: StrategyName,
  ) => Promise<Record<string, number>> {
    const compiled = compile(policy);
    return async (task, candidates, strategy) => {
      const chosen = compiled.strategies[strategy ?? strategyFor(compiled.policy, task.type)];
      const accepts = admits(compiled.policy, task, chosen.admission?.(task) ?? { accepts: () => true });
      const admitted = candidates.filter(accepts);
      if (admitted.length === 0) return {};
      const ranking = await chosen.rank(admitted, task, { ...this.#context, tuning: compiled.tuning });
      const first = ranking.ranked[0];
      return ranking.probabilities ?? (first ? { [first.service.name]: 1 } : {});
    };
  }

  async stats(): Promise<RoutingStats> {
    return routingStats((await this.#ports.routeCounters?.()) ?? {});
  }

  /**
   * The next service after `decision.primary` failed, chosen now: the services the task's strategy
   * admits are read again from the registry (so one registered since the decision counts, and one
   * disabled or unhealthy since does not), the tried ones left out, and the rest ranked by their
   * learned expected utility (see {@link failoverDecision}).
   */
  async failover(decision: RoutingDecision, taskInput: TaskInput): Promise<FailoverResult> {
    assertDecision(decision);
    const task = parseInput(taskSchema, taskInput, 'task');
    const policy = await this.#policy();
    const strategy = policy.strategies[decision.strategy] ?? policy.strategies.capability;
    const accepts = admits(policy.policy, task, strategy.admission?.(task), decision.allowed);
    const services = await (this.#ports.freshServices ?? this.#ports.listServices)();
    const [allTime, recent] = await Promise.all([
      this.#ports.statsFor(task.type),
      this.#ports.recentStatsFor ? this.#ports.recentStatsFor(task.type) : Promise.resolve(undefined),
    ]);
    const allTimeBy = new Map(allTime.map((s) => [s.service, s]));
    const recentBy = recent && new Map(recent.map((s) => [s.service, s]));
    const utility = (name: string) =>
      expectedUtility(
        evidenceOf(
          allTimeBy.get(name),
          recentBy
            ? (recentBy.get(name) ?? { taskType: task.type, service: name, ...emptyCounters() })
            : undefined,
        ),
      );
    const next = failoverDecision(decision, services, accepts, utility, this.#ports.now());
    if (next.exhausted) return next;
    const retry = retryPolicyFor(policy.policy, task.type, next.decision.primary);
    return {
      exhausted: false,
      decision: {
        ...next.decision,
        retryPolicy: retry,
        retrySchedule: retrySchedule(retry),
        policyVersion: policy.version,
      },
    };
  }
}

/**
 * The services a decision may use: those the strategy admits (by default, those capable of the
 * task), less those the policy ejects for the task's type, and only those in `only` when it is
 * given (a budget's choice).
 */
function admits(
  policy: RoutingPolicy,
  task: Task,
  admission: Pick<Admission, 'accepts'> | undefined,
  only?: readonly string[],
): (service: Service) => boolean {
  const accepts = admission?.accepts ?? ((s: Service) => isCapable(s, task));
  const ejecting = Object.keys(policy.ejected).length > 0;
  return (service) =>
    (only === undefined || only.includes(service.name)) &&
    accepts(service) &&
    !(ejecting && isEjected(policy, service.name, task.type));
}

/** The strategies of a policy: the fixed ones, and content routing on its rules. */
function compile(active: ActivePolicy): CompiledPolicy {
  const { policy } = active;
  return {
    ...active,
    tuning: tuningOf(policy),
    strategies: {
      'round-robin': roundRobin,
      random,
      'least-loaded': leastLoaded,
      weighted,
      capability: capabilityBased,
      priority: priorityBased,
      content: contentBased({ rules: policy.rules, defaultTarget: policy.defaultTarget }),
      learned,
      cost: cheapest,
    },
  };
}

/**
 * Moves a decision past its failed primary. The candidates are the services `accepts` admits that
 * are enabled, not tried yet and not unhealthy (degraded ones only when nothing healthy is left),
 * ranked by `utility` (the learned expected success, less latency), then by their place among the
 * decision's fallbacks, then by name. A fallback of the decision that is no longer usable is named
 * in the reason as skipped.
 */
export function failoverDecision(
  decision: RoutingDecision,
  services: readonly Service[],
  accepts: (service: Service) => boolean,
  utility: (service: string) => number,
  now: Date,
): FailoverResult {
  assertDecision(decision);
  const tried = [...decision.tried, decision.primary];
  const candidates = eligibleServices(services, (s) => accepts(s) && !tried.includes(s.name), now);
  if (candidates.length === 0) {
    return { exhausted: true, tried, reason: `no fallback left after ${tried.join(', ')}` };
  }
  const place = (name: string) => {
    const index = decision.fallbacks.indexOf(name);
    return index === -1 ? decision.fallbacks.length : index;
  };
  const scored = candidates
    .map((service) => ({ service, score: round(utility(service.name)) }))
    .sort(
      (a, b) =>
        b.score - a.score || place(a.service.name) - place(b.service.name) || byName(a.service, b.service),
    );
  const [next, ...rest] = scored as [(typeof scored)[number], ...typeof scored];
  const usable = new Set(candidates.map((s) => s.name));
  const skipped = decision.fallbacks.filter((name) => !usable.has(name) && !tried.includes(name));
  return {
    exhausted: false,
    decision: {
      ...decision,
      primary: next.service.name,
      endpoint: next.service.endpoint,
      fallbacks: rest.map((c) => c.service.name),
      tried,
      candidates: scored.map(({ service, score }) => ({
        name: service.name,
        health: effectiveHealth(service, now),
        load: service.load,
        score,
      })),
      reason: `failover from ${decision.primary} to ${next.service.name}: re-scored at failure time, expected utility ${next.score}${skipped.length > 0 ? ` (skipped unavailable ${skipped.join(', ')})` : ''}`,
    },
  };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
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
