/**
 * Routing economics: seeded simulations, through the real `Router` and a routing policy, of two
 * things the success-only learned router cannot do.
 *
 * **Cost.** A cheap service nearly as reliable as a premium one, and a cheaper bad one. Learned
 * routing that weighs cost (`costWeight`) and the `cost` strategy (the cheapest service whose
 * expected success clears `costMinSuccess`) are compared with learned routing on success alone:
 * what a task costs, and how often it succeeds.
 *
 * **Context.** Which service is best depends on the task: a video specialist, a text specialist
 * and a generalist that is second best at both. Learned routing with task features (contextual)
 * and without are compared with an oracle that knows each task's best service. The tasks also
 * carry features that predict nothing (priority, a language keyword), which contextual routing
 * must not follow.
 *
 * **The world** is that of `routing-quality.ts`: Poisson arrivals; for every task and service a
 * pre-drawn success uniform and lognormal latency shared by every policy (common random numbers);
 * one call per task; a call's outcome reaches the statistics (with the counter shapes of
 * `lib/core/statistics.ts`: cost and feature counters included) when the call ends.
 */
import { mulberry32 } from '../lib/core/random.ts';
import {
  type ActivePolicy,
  type RoutingPolicyInput,
  routingPolicySchema,
} from '../lib/core/routing/policy.ts';
import { Router, type RouterPorts, type StrategyName } from '../lib/core/routing/router.ts';
import { taskFeatures } from '../lib/core/routing/task-features.ts';
import type { Service } from '../lib/core/service.ts';
import { addObservation, emptyCounters, type ServiceStats } from '../lib/core/statistics.ts';
import { type Task, taskSchema } from '../lib/core/task.ts';
import { makeWorld, type ServiceProfile, type World } from './routing-quality.ts';

/** A simulated service: its true success (by task kind), latency and price per call. */
export interface EconomicsProfile {
  label: string;
  /** True success probability by task kind (every kind, when the world has one kind). */
  success: Record<string, number>;
  medianMs: number;
  sigma: number;
  costUsd: number;
}

/** The cost world: one kind of task. */
export const COST_PROFILES: readonly EconomicsProfile[] = [
  { label: 'cheap', success: { any: 0.95 }, medianMs: 500, sigma: 0.4, costUsd: 0.002 },
  { label: 'premium', success: { any: 0.97 }, medianMs: 500, sigma: 0.4, costUsd: 0.01 },
  { label: 'bad', success: { any: 0.6 }, medianMs: 500, sigma: 0.4, costUsd: 0.001 },
];

/** The contextual world: the task's kind (its first keyword) decides who is best. */
export const CONTEXT_PROFILES: readonly EconomicsProfile[] = [
  {
    label: 'video-specialist',
    success: { video: 0.95, text: 0.65 },
    medianMs: 500,
    sigma: 0.4,
    costUsd: 0.005,
  },
  {
    label: 'text-specialist',
    success: { video: 0.65, text: 0.95 },
    medianMs: 500,
    sigma: 0.4,
    costUsd: 0.005,
  },
  { label: 'generalist', success: { video: 0.85, text: 0.85 }, medianMs: 500, sigma: 0.4, costUsd: 0.005 },
];

/** Utility per USD in the cost-aware learned policy: $0.008 more per call must buy more than 0.08 of success. */
export const COST_WEIGHT = 10;
export const MIN_SUCCESS = 0.9;

export interface EconomicsOptions {
  seed?: number;
  tasks?: number;
  arrivalsPerSecond?: number;
}

export const DEFAULT_ECONOMICS = { seed: 1, tasks: 5_000, arrivalsPerSecond: 20 } as const;

/** What one policy did in one world. */
export interface EconomicsRun {
  successRate: number;
  /** Mean over tasks of the true success probability of the choice. */
  expectedSuccess: number;
  /** USD per task (one call each). */
  meanCostUsd: number;
  /** Share of the tasks each service (by label) took. */
  share: Record<string, number>;
  /** Mean probability the policy gave its own choice (`RoutingDecision.logged.propensity`). */
  meanPropensity: number;
}

export interface EconomicsBenchReport {
  setup: {
    seed: number;
    tasks: number;
    arrivalsPerSecond: number;
    costWeight: number;
    minSuccess: number;
    costWorld: readonly EconomicsProfile[];
    contextualWorld: readonly EconomicsProfile[];
    definitions: Record<string, string>;
  };
  costAware: {
    runs: Record<'learned' | 'learned-cost' | 'cost', EconomicsRun>;
    /** Cost per task, learned with `costWeight` / learned on success alone (target <= 0.7). */
    costAwareCostRatio: number;
    /** Success rate, the same two (target >= 0.97). */
    costAwareSuccessRatio: number;
    /** The same two ratios for the `cost` strategy. */
    costStrategyCostRatio: number;
    costStrategySuccessRatio: number;
  };
  contextual: {
    runs: Record<'oracle' | 'learned-contextual' | 'learned-plain', EconomicsRun>;
    /** Realised successes, contextual learned / oracle (target >= 0.95). */
    contextualSuccessRatio: number;
    /** The same without task features. */
    nonContextualSuccessRatio: number;
    /** Expected (true-probability) successes over the oracle's, with and without features. */
    contextualExpectedRatio: number;
    nonContextualExpectedRatio: number;
  };
}

const TASK_TYPE = 'media_job';
const NOW = new Date('2026-01-01T00:00:00.000Z');

/** A world of `routing-quality.ts` for these profiles, plus each task's kind and decoy features. */
interface EconomicsWorld {
  world: World;
  profiles: readonly EconomicsProfile[];
  tasks: Task[];
  kinds: string[];
}

function economicsWorld(
  profiles: readonly EconomicsProfile[],
  seed: number,
  options: Required<EconomicsOptions>,
) {
  const shapes: ServiceProfile[] = profiles.map((p) => ({
    label: p.label,
    success: 0,
    medianMs: p.medianMs,
    sigma: p.sigma,
  }));
  const scenario = { name: 'economics', tasks: options.tasks, arrivalsPerSecond: options.arrivalsPerSecond };
  const world = makeWorld(shapes, scenario, seed);
  const random = seededAfter(seed);
  const kindsOf = Object.keys(profiles[0]?.success ?? {});
  const tasks: Task[] = [];
  const kinds: string[] = [];
  for (let t = 0; t < options.tasks; t++) {
    const kind = kindsOf[Math.floor(random() * kindsOf.length)] as string;
    const language = random() < 0.5 ? 'en' : 'fr';
    const priority = random() < 0.3 ? 'high' : 'normal';
    kinds.push(kind);
    tasks.push(
      taskSchema.parse({
        id: `task-${t}`,
        type: TASK_TYPE,
        priority,
        keywords: kind === 'any' ? [language] : [kind, language],
        parameters: { prompt: 'x'.repeat(Math.floor(random() * 2_000)) },
      }),
    );
  }
  return { world, profiles, tasks, kinds } satisfies EconomicsWorld;
}

/** A generator for the task draws, apart from the world's (same seed, another stream). */
function seededAfter(seed: number): () => number {
  return mulberry32((seed ^ 0x2545f491) >>> 0);
}

function trueSuccess(w: EconomicsWorld, i: number, t: number): number {
  return (w.profiles[i] as EconomicsProfile).success[w.kinds[t] as string] as number;
}

/** The profile with the best true success for task `t` (the cheapest among equals). */
function oracleChoice(w: EconomicsWorld, t: number): number {
  let best = 0;
  for (let i = 1; i < w.profiles.length; i++) {
    const gain = trueSuccess(w, i, t) - trueSuccess(w, best, t);
    if (
      gain > 0 ||
      (gain === 0 &&
        (w.profiles[i] as EconomicsProfile).costUsd < (w.profiles[best] as EconomicsProfile).costUsd)
    )
      best = i;
  }
  return best;
}

interface Completion {
  endMs: number;
  service: number;
  ok: boolean;
  ms: number;
  cost: number;
  features: string[];
}

/** The router's view: the registry (prices declared), all-time statistics with cost and feature counters, a policy. */
class EconomicsPorts implements RouterPorts {
  readonly services: Service[];
  readonly stats: ServiceStats[];
  readonly random: () => number;
  readonly #policy: ActivePolicy;

  constructor(w: EconomicsWorld, random: () => number, policy: RoutingPolicyInput) {
    this.random = random;
    this.#policy = { version: 1, policy: routingPolicySchema.parse(policy) };
    this.services = w.profiles.map((profile, i) =>
      Object.assign(
        {
          name: w.world.names[i] as string,
          endpoint: `https://${w.world.names[i]}.example.com`,
          capabilities: [TASK_TYPE],
          weight: 1,
          enabled: true,
          health: 'healthy' as const,
          load: 0,
          version: 1,
          updatedAt: NOW.toISOString(),
        },
        { costPerCall: profile.costUsd },
      ),
    );
    this.stats = w.world.names.map((service) => ({
      taskType: TASK_TYPE,
      service,
      ...emptyCounters(),
      features: {},
    }));
  }

  complete(c: Completion): void {
    (this.services[c.service] as Service).load--;
    const stats = this.stats[c.service] as ServiceStats;
    addObservation(stats, {
      taskType: TASK_TYPE,
      service: stats.service,
      success: c.ok,
      timedOut: false,
      latencyMs: c.ms,
      at: NOW.toISOString(),
      cost: c.cost,
    });
    const features = stats.features ?? {};
    for (const f of c.features) {
      const seen = features[f] ?? { count: 0, successes: 0 };
      features[f] = { count: seen.count + 1, successes: seen.successes + (c.ok ? 1 : 0) };
    }
    stats.features = features;
  }

  async statsFor(): Promise<ServiceStats[]> {
    return this.stats;
  }
  async listServices(): Promise<Service[]> {
    return this.services;
  }
  async activePolicy(): Promise<ActivePolicy> {
    return this.#policy;
  }
  now(): Date {
    return NOW;
  }
}

type Policy = { strategy: StrategyName; policy: RoutingPolicyInput } | 'oracle';

/** Runs one policy over one world; `seed` drives the policy's own randomness only. */
async function simulate(w: EconomicsWorld, policy: Policy, seed: number): Promise<EconomicsRun> {
  const n = w.tasks.length;
  const k = w.profiles.length;
  const ports = new EconomicsPorts(w, seededAfter(seed * 7_919), policy === 'oracle' ? {} : policy.policy);
  const router = new Router(ports);
  const index = new Map(w.world.names.map((name, i) => [name, i]));
  const pending: Completion[] = [];
  const taken = new Array<number>(k).fill(0);
  let successes = 0;
  let expected = 0;
  let cost = 0;
  let propensity = 0;
  for (let t = 0; t < n; t++) {
    const now = w.world.arrivalsMs[t] as number;
    let due = 0;
    while (due < pending.length && (pending[due] as Completion).endMs <= now) due++;
    for (const c of pending.splice(0, due)) ports.complete(c);

    const task = w.tasks[t] as Task;
    let chosen: number;
    if (policy === 'oracle') {
      chosen = oracleChoice(w, t);
      propensity += 1;
    } else {
      const decision = await router.routeTask(task, policy.strategy);
      chosen = index.get(decision.primary) as number;
      propensity += decision.logged?.propensity ?? 1;
    }
    const ms = w.world.latenciesMs[t * k + chosen] as number;
    const ok = (w.world.uniforms[t * k + chosen] as number) < trueSuccess(w, chosen, t);
    const price = (w.profiles[chosen] as EconomicsProfile).costUsd;
    taken[chosen] = (taken[chosen] as number) + 1;
    if (ok) successes++;
    expected += trueSuccess(w, chosen, t);
    cost += price;
    (ports.services[chosen] as Service).load++;
    const completion = {
      endMs: now + ms,
      service: chosen,
      ok,
      ms,
      cost: price,
      features: taskFeatures(task),
    };
    let at = pending.length;
    while (at > 0 && (pending[at - 1] as Completion).endMs > completion.endMs) at--;
    pending.splice(at, 0, completion);
  }
  return {
    successRate: successes / n,
    expectedSuccess: expected / n,
    meanCostUsd: cost / n,
    share: Object.fromEntries(w.profiles.map((p, i) => [p.label, (taken[i] as number) / n])),
    meanPropensity: propensity / n,
  };
}

/** Both worlds, every policy, one seed. */
export async function economicsBench(options: EconomicsOptions = {}): Promise<EconomicsBenchReport> {
  const settings: Required<EconomicsOptions> = { ...DEFAULT_ECONOMICS, ...options };
  const { seed } = settings;
  const costWorld = economicsWorld(COST_PROFILES, seed, settings);
  const plain = { exploration: { contextual: false } };
  const learned = await simulate(costWorld, { strategy: 'learned', policy: plain }, seed);
  const learnedCost = await simulate(
    costWorld,
    { strategy: 'learned', policy: { ...plain, costWeight: COST_WEIGHT } },
    seed,
  );
  const cost = await simulate(costWorld, { strategy: 'cost', policy: { costMinSuccess: MIN_SUCCESS } }, seed);

  const contextWorld = economicsWorld(CONTEXT_PROFILES, seed, settings);
  const oracle = await simulate(contextWorld, 'oracle', seed);
  const contextual = await simulate(contextWorld, { strategy: 'learned', policy: {} }, seed);
  const withoutFeatures = await simulate(contextWorld, { strategy: 'learned', policy: plain }, seed);

  return {
    setup: {
      seed,
      tasks: settings.tasks,
      arrivalsPerSecond: settings.arrivalsPerSecond,
      costWeight: COST_WEIGHT,
      minSuccess: MIN_SUCCESS,
      costWorld: COST_PROFILES,
      contextualWorld: CONTEXT_PROFILES,
      definitions: {
        world:
          'routing-quality world: Poisson arrivals, pre-drawn success uniforms and lognormal latencies shared by all policies, one call per task, outcomes (with cost and task-feature counters) reach the all-time statistics when the call ends; services declare their price (costPerCall)',
        'learned-cost': `learned strategy with policy costWeight ${COST_WEIGHT} (utility per USD), task features off`,
        learned: 'learned strategy on success (and latency) alone, task features off',
        cost: `cost strategy: cheapest service whose expected success is at least ${MIN_SUCCESS}, or not yet shown below it`,
        'learned-contextual': 'learned strategy with task features (the default policy)',
        oracle: "the service with the best true success for the task's kind",
        ratios:
          'cost ratio = mean USD per task / that of learned; success ratio = realised success rate / that of the reference; expected ratios use the true success probability of each choice',
      },
    },
    costAware: {
      runs: { learned, 'learned-cost': learnedCost, cost },
      costAwareCostRatio: learnedCost.meanCostUsd / learned.meanCostUsd,
      costAwareSuccessRatio: learnedCost.successRate / learned.successRate,
      costStrategyCostRatio: cost.meanCostUsd / learned.meanCostUsd,
      costStrategySuccessRatio: cost.successRate / learned.successRate,
    },
    contextual: {
      runs: { oracle, 'learned-contextual': contextual, 'learned-plain': withoutFeatures },
      contextualSuccessRatio: contextual.successRate / oracle.successRate,
      nonContextualSuccessRatio: withoutFeatures.successRate / oracle.successRate,
      contextualExpectedRatio: contextual.expectedSuccess / oracle.expectedSuccess,
      nonContextualExpectedRatio: withoutFeatures.expectedSuccess / oracle.expectedSuccess,
    },
  };
}
