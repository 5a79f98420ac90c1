/**
 * Routing replay: can the logs of one routing policy tell how another would have done? A seeded
 * world of task types and services whose true success rates, latencies and costs no estimator
 * is told; decisions logged under one policy, with the probability it gave each choice; the
 * off-policy estimators of `lib/core/routing/off-policy.ts` asked about a different policy, and
 * their answer compared with what that policy actually achieves when run on the same tasks.
 *
 * **The world.** Each task has a type and a difficulty in [0, 1]. A harder task lowers every
 * service's success probability, some services (the fragile ones) much more than others. For
 * every task and every service the world draws in advance whether a call would succeed, how long
 * it would take and what it would cost (common random numbers): when the logging and the target
 * policy send task t to the same service they see the same outcome.
 *
 * **Why it is not easy.** The logging policy sees the difficulty and sends hard tasks to the
 * robust, expensive service; the logs carry only the task type. So the per-(type, service) means a
 * reward model can learn are confounded (the robust service looks worse than it is, the fragile
 * ones better), and a direct-method estimate built from them is biased. The propensities are
 * what corrects it. The target policy is deterministic, so every estimate rests on the decisions
 * where the logger happened to choose as the target would.
 */
import { mulberry32 } from '../lib/core/random.ts';
import {
  ESTIMATORS,
  type Estimator,
  type Interval,
  type LoggedDecision,
  offPolicyEstimate,
  rewardModel,
  type TargetProbabilities,
  weightedQuantile,
} from '../lib/core/routing/off-policy.ts';

export interface TaskTypeProfile {
  name: string;
  /** Share of the traffic. */
  share: number;
  /** Multiplies every service's latency and cost for this type. */
  scale: number;
}

export const TASK_TYPES: readonly TaskTypeProfile[] = [
  { name: 'image', share: 0.5, scale: 1.5 },
  { name: 'research', share: 0.3, scale: 2 },
  { name: 'summary', share: 0.2, scale: 0.5 },
];

/** A simulated service: what is true about it, which no estimator is told. */
export interface ServiceProfile {
  name: string;
  /** True success probability by task type, for a task of middling difficulty (0.5). */
  success: Record<string, number>;
  /** How much difficulty hurts: the log-odds of success fall by this much from the easiest to the hardest task. */
  fragility: number;
  medianMs: number;
  /** Lognormal shape of the latency. */
  sigma: number;
  /** Price of a call before the type's scale and some noise. */
  costUsd: number;
  /** The success rate a catalogue states for each type: what the target policy reads. */
  stated: Record<string, number>;
}

/**
 * Four services: atlas robust, slow and expensive; breeze fast, cheap and fragile; cobalt and dune
 * in between, each good at something. The catalogue is optimistic about the cheap ones.
 */
export const SERVICES: readonly ServiceProfile[] = [
  {
    name: 'atlas',
    success: { image: 0.9, research: 0.88, summary: 0.93 },
    fragility: 1,
    medianMs: 2_400,
    sigma: 0.5,
    costUsd: 0.04,
    stated: { image: 0.95, research: 0.95, summary: 0.95 },
  },
  {
    name: 'breeze',
    success: { image: 0.82, research: 0.62, summary: 0.9 },
    fragility: 3.5,
    medianMs: 500,
    sigma: 0.6,
    costUsd: 0.006,
    stated: { image: 0.85, research: 0.75, summary: 0.92 },
  },
  {
    name: 'cobalt',
    success: { image: 0.86, research: 0.78, summary: 0.85 },
    fragility: 2,
    medianMs: 900,
    sigma: 0.4,
    costUsd: 0.015,
    stated: { image: 0.9, research: 0.8, summary: 0.88 },
  },
  {
    name: 'dune',
    success: { image: 0.7, research: 0.84, summary: 0.88 },
    fragility: 2.5,
    medianMs: 1_400,
    sigma: 0.7,
    costUsd: 0.02,
    stated: { image: 0.75, research: 0.9, summary: 0.9 },
  },
];

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The true success probability of `service` on a task of `type` and `difficulty`. */
export function trueSuccess(service: ServiceProfile, type: string, difficulty: number): number {
  return sigmoid(logit(service.success[type] as number) - service.fragility * (difficulty - 0.5));
}

/** The draws of one seed, shared by every policy. */
export interface World {
  types: string[];
  difficulty: Float64Array;
  /** Per task t and service i at [t * k + i]: the call succeeds, its latency, its cost. */
  ok: Uint8Array;
  /** True success probability, to report what a policy should achieve on average. */
  probability: Float64Array;
  latencyMs: Float64Array;
  costUsd: Float64Array;
}

/** The index that u, uniform in [0, 1), falls in when [0, 1) is cut into these probabilities. */
function draw(probabilities: readonly number[], u: number): number {
  let left = u;
  for (let i = 0; i < probabilities.length; i++) {
    left -= probabilities[i] as number;
    if (left < 0) return i;
  }
  return probabilities.length - 1;
}

export function makeWorld(tasks: number, seed: number): World {
  const random = mulberry32(seed);
  const k = SERVICES.length;
  const shares = TASK_TYPES.map((type) => type.share);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const world: World = {
    types: [],
    difficulty: new Float64Array(tasks),
    ok: new Uint8Array(tasks * k),
    probability: new Float64Array(tasks * k),
    latencyMs: new Float64Array(tasks * k),
    costUsd: new Float64Array(tasks * k),
  };
  for (let t = 0; t < tasks; t++) {
    const type = TASK_TYPES[draw(shares, random())] as TaskTypeProfile;
    world.types.push(type.name);
    const difficulty = random();
    world.difficulty[t] = difficulty;
    SERVICES.forEach((service, i) => {
      const p = trueSuccess(service, type.name, difficulty);
      world.probability[t * k + i] = p;
      world.ok[t * k + i] = random() < p ? 1 : 0;
      world.latencyMs[t * k + i] = type.scale * service.medianMs * Math.exp(service.sigma * normal());
      world.costUsd[t * k + i] = type.scale * service.costUsd * Math.exp(0.2 * normal());
    });
  }
  return world;
}

/** A policy's probability for each service (in `SERVICES` order) at task t. */
export type Policy = (world: World, t: number) => number[];

/** Exploration floor of the logging policy: every service keeps at least EPSILON / k of the traffic. */
export const EPSILON = 0.3;
/** Softmax temperature of the logging policy over its scores. */
export const TEMPERATURE = 0.1;
/** How much the logging policy favours atlas on the hardest task over the easiest. */
export const ATLAS_LEAN = 0.2;

/**
 * The logging policy: a softmax over stale beliefs (the catalogue's rates less a cost penalty),
 * leaning on atlas as difficulty grows, mixed with uniform exploration.
 */
export const loggingPolicy: Policy = (world, t) => {
  const type = world.types[t] as string;
  const difficulty = world.difficulty[t] as number;
  const scores = SERVICES.map(
    (s) => (s.stated[type] as number) - 2 * s.costUsd + (s.name === 'atlas' ? ATLAS_LEAN * difficulty : 0),
  );
  const top = Math.max(...scores);
  const exp = scores.map((score) => Math.exp((score - top) / TEMPERATURE));
  const total = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => (1 - EPSILON) * (e / total) + EPSILON / SERVICES.length);
};

/** The target policy's service for a task type: the cheapest the catalogue rates at 0.85 or better. */
export function targetService(type: string): ServiceProfile {
  const eligible = SERVICES.filter((s) => (s.stated[type] as number) >= 0.85);
  return eligible.reduce((a, b) => (b.costUsd < a.costUsd ? b : a));
}

/** The target policy: deterministic, and it reads only the task type, which the logs keep. */
export const targetPolicy: Policy = (world, t) => {
  const chosen = targetService(world.types[t] as string);
  return SERVICES.map((s) => (s === chosen ? 1 : 0));
};

/** Runs `policy` on every task of the world; `seed` drives its own choices only. */
export function run(
  world: World,
  policy: Policy,
  seed: number,
): { choice: Uint8Array; propensity: Float64Array } {
  const random = mulberry32(seed);
  const n = world.difficulty.length;
  const choice = new Uint8Array(n);
  const propensity = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const probabilities = policy(world, t);
    const i = draw(probabilities, random());
    choice[t] = i;
    propensity[t] = probabilities[i] as number;
  }
  return { choice, propensity };
}

/** The logs of a run, as the orchestrator would record them: type, candidates, choice, propensity, outcome. */
export function logDecisions(world: World, choice: Uint8Array, propensity: Float64Array): LoggedDecision[] {
  const k = SERVICES.length;
  return Array.from(choice, (i, t) => ({
    taskType: world.types[t] as string,
    candidates: SERVICES.map((s) => s.name),
    chosen: (SERVICES[i] as ServiceProfile).name,
    propensity: propensity[t] as number,
    outcome: {
      success: world.ok[t * k + i] === 1,
      latencyMs: world.latencyMs[t * k + i] as number,
      costUsd: world.costUsd[t * k + i] as number,
    },
  }));
}

/** What a run achieved: realised success rate, mean cost and p95 latency, and its expected success rate. */
export interface Achieved {
  successRate: number;
  expectedSuccessRate: number;
  meanCostUsd: number;
  p95LatencyMs: number;
}

export function achieved(world: World, choice: Uint8Array): Achieved {
  const k = SERVICES.length;
  const n = choice.length;
  let successes = 0;
  let expected = 0;
  let cost = 0;
  const latencies: { value: number; weight: number }[] = [];
  choice.forEach((i, t) => {
    successes += world.ok[t * k + i] as number;
    expected += world.probability[t * k + i] as number;
    cost += world.costUsd[t * k + i] as number;
    latencies.push({ value: world.latencyMs[t * k + i] as number, weight: 1 });
  });
  return {
    successRate: successes / n,
    expectedSuccessRate: expected / n,
    meanCostUsd: cost / n,
    // The same quantile rule as the estimators', so the two are compared like for like.
    p95LatencyMs: weightedQuantile(latencies, 0.95) as number,
  };
}

export interface EstimatorResult {
  successRate: Interval | null;
  /** |estimate - actual success rate|; null when there is no estimate. */
  error: number | null;
  /** The actual success rate lies in the interval. */
  covers: boolean;
  meanCostUsd: Interval | null;
  costError: number | null;
  p95LatencyMs: number | null;
  supported: boolean;
  reason?: string | undefined;
}

export interface ReplayBenchReport {
  setup: {
    seed: number;
    decisions: number;
    taskTypes: readonly TaskTypeProfile[];
    services: readonly ServiceProfile[];
    definitions: Record<string, string>;
  };
  /** What the logging policy achieved on the tasks. */
  logging: Achieved;
  /** What the target policy achieved on the same tasks (same pre-drawn outcomes). */
  actual: Achieved;
  /** Decisions where the logger chose as the target would, and their effective sample size. */
  overlapping: number;
  effectiveSampleSize: number;
  estimators: Record<Estimator, EstimatorResult>;
  /** The reward model alone (per type and service logged means): what ignoring propensities gives. */
  directMethod: { successRate: number; error: number };
  /** |doubly robust estimate - actual success rate|. */
  absError: number;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_DECISIONS = 5_000;

/** Logs `decisions` tasks under the logging policy and estimates the target policy from them. */
export function replayBench(options: { seed?: number; decisions?: number } = {}): ReplayBenchReport {
  const seed = options.seed ?? DEFAULT_SEED;
  const decisions = options.decisions ?? DEFAULT_DECISIONS;
  const world = makeWorld(decisions, seed);
  const logged = run(world, loggingPolicy, seed * 1_000 + 1);
  const target = run(world, targetPolicy, seed * 1_000 + 2);
  const logs = logDecisions(world, logged.choice, logged.propensity);
  const actual = achieved(world, target.choice);

  const probabilities: TargetProbabilities = (decision) => ({ [targetService(decision.taskType).name]: 1 });

  const estimates = ESTIMATORS.map((estimator) => offPolicyEstimate(logs, probabilities, { estimator }));
  const estimators = Object.fromEntries(
    estimates.map((e) => {
      const rate = e.successRate;
      const result: EstimatorResult = {
        successRate: rate,
        error: rate && Math.abs(rate.estimate - actual.successRate),
        covers: rate !== null && rate.low <= actual.successRate && actual.successRate <= rate.high,
        meanCostUsd: e.meanCostUsd,
        costError: e.meanCostUsd && Math.abs(e.meanCostUsd.estimate - actual.meanCostUsd),
        p95LatencyMs: e.p95LatencyMs,
        supported: e.supported,
        reason: e.reason,
      };
      return [e.estimator, result];
    }),
  ) as Record<Estimator, EstimatorResult>;

  const model = rewardModel(
    logs.map((decision) => ({ decision })),
    (d) => (d.outcome.success ? 1 : 0),
    2,
  );
  let direct = 0;
  for (const decision of logs) {
    const p = probabilities(decision);
    for (const service of decision.candidates)
      direct += (p[service] ?? 0) * model(decision.taskType, service);
  }
  const directRate = direct / logs.length;
  const first = estimates[0] as (typeof estimates)[number];

  return {
    setup: {
      seed,
      decisions,
      taskTypes: TASK_TYPES,
      services: SERVICES,
      definitions: {
        world:
          'task type by share, difficulty uniform in [0, 1]; per task and service a pre-drawn success (log-odds fall by fragility x (difficulty - 0.5)), lognormal latency and cost, shared by both policies',
        logging: `softmax (temperature ${TEMPERATURE}) over stated success - 2 x cost + ${ATLAS_LEAN} x difficulty for atlas, mixed with ${EPSILON} uniform exploration; it sees the difficulty, the logs do not`,
        target:
          'for each task type, the cheapest service the catalogue states at 0.85 or better (deterministic)',
        actual: 'the target policy run on the same tasks: realised success rate on the pre-drawn outcomes',
        absError: '|doubly robust estimate of the success rate - actual success rate|',
        directMethod:
          'mean over logged decisions of the reward model (per type and service logged success, smoothed) at the target choice',
      },
    },
    logging: achieved(world, logged.choice),
    actual,
    overlapping: first.overlapping,
    effectiveSampleSize: first.effectiveSampleSize,
    estimators,
    directMethod: { successRate: directRate, error: Math.abs(directRate - actual.successRate) },
    absError: estimators.dr.error ?? Number.NaN,
  };
}
