/**
 * Routing quality: a seeded simulation of five services whose true success rates and latencies
 * the routers do not know, routed by the real strategies of `lib/core` through the real `Router`,
 * against an oracle that knows the truth.
 *
 * **The world.** Tasks arrive as a Poisson process. For every task and every service the world
 * draws in advance whether a call would succeed and how long it would take (common random
 * numbers): when two policies send task t to the same service they see the same outcome, so
 * differences between policies are differences of choice, not of luck.
 *
 * **Feedback.** A call's outcome is known when it finishes, not when it starts: the simulator
 * keeps the calls in flight (which least-loaded reads as `Service.load`) and adds each outcome to
 * the statistics the learned router reads, with the counter shapes of `lib/core/statistics.ts`,
 * only once simulated time has passed its end.
 *
 * **The oracle** picks, for every task, the service with the best true utility (the learned
 * router's own `utility`: success probability less a latency penalty), so no policy can beat it
 * in expected utility. The scenarios are built so that it also has the best expected success.
 */
import { confidenceFrom } from '../lib/core/confidence.ts';
import { evidenceOf, utility } from '../lib/core/routing/learned.ts';
import { Router, type RouterPorts, type StrategyName } from '../lib/core/routing/router.ts';
import type { Service } from '../lib/core/service.ts';
import {
  emptyCounters,
  latencyBucket,
  type OutcomeCounters,
  type ServiceStats,
} from '../lib/core/statistics.ts';
import { seeded } from '../test/unit/workflow/support.ts';

/** A simulated service: what is true about it, which no router is told. */
export interface ServiceProfile {
  label: string;
  success: number;
  medianMs: number;
  /** Lognormal shape: the log of the latency has this standard deviation. */
  sigma: number;
}

/**
 * Five services from reliable-but-slow to fast-but-flaky. A (reliable, slow) has the best true
 * utility, B (nearly as reliable, fast) is a close second, so the learned router has to tell two
 * good services apart, not only avoid the bad ones.
 */
export const PROFILES: readonly ServiceProfile[] = [
  { label: 'A', success: 0.98, medianMs: 1_500, sigma: 0.6 },
  { label: 'B', success: 0.92, medianMs: 400, sigma: 0.5 },
  { label: 'C', success: 0.85, medianMs: 250, sigma: 0.4 },
  { label: 'D', success: 0.75, medianMs: 800, sigma: 0.7 },
  { label: 'E', success: 0.6, medianMs: 120, sigma: 0.3 },
];

/** The mean of a lognormal latency: median x exp(sigma^2 / 2). */
export function meanLatencyMs(profile: ServiceProfile): number {
  return profile.medianMs * Math.exp(profile.sigma ** 2 / 2);
}

/**
 * The weight a person would give each service without knowing its success rate: its stated
 * capacity, taken as the calls per second one connection sustains at the advertised median
 * latency. Every strategy sees the same registry, so least-loaded divides load by it too.
 */
export function statedCapacity(profile: ServiceProfile): number {
  return Math.round((1_000 / profile.medianMs) * 100) / 100;
}

export interface Degradation {
  atTask: number;
  label: string;
  success: number;
}

export interface Scenario {
  name: string;
  tasks: number;
  arrivalsPerSecond: number;
  degrade?: Degradation | undefined;
}

/** The draws of one seed, shared by every policy. */
export interface World {
  profiles: readonly ServiceProfile[];
  scenario: Scenario;
  /** Service name of each profile: shuffled per seed, so the alphabetical tie-break favours no profile. */
  names: string[];
  arrivalsMs: Float64Array;
  /** uniform[t * k + i] < success of profile i at task t means the call succeeds. */
  uniforms: Float64Array;
  latenciesMs: Float64Array;
}

export function makeWorld(profiles: readonly ServiceProfile[], scenario: Scenario, seed: number): World {
  const random = seeded(seed);
  const k = profiles.length;
  const order = profiles.map((_, i) => i);
  for (let i = k - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const names = profiles.map((_, i) => `svc-${(order[i] as number) + 1}`);
  const arrivalsMs = new Float64Array(scenario.tasks);
  const uniforms = new Float64Array(scenario.tasks * k);
  const latenciesMs = new Float64Array(scenario.tasks * k);
  let clock = 0;
  for (let t = 0; t < scenario.tasks; t++) {
    clock += (-Math.log(1 - random()) / scenario.arrivalsPerSecond) * 1_000;
    arrivalsMs[t] = clock;
    for (let i = 0; i < k; i++) {
      const profile = profiles[i] as ServiceProfile;
      uniforms[t * k + i] = random();
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      latenciesMs[t * k + i] = profile.medianMs * Math.exp(profile.sigma * normal);
    }
  }
  return { profiles, scenario, names, arrivalsMs, uniforms, latenciesMs };
}

/** The true success probability of profile `i` at task `t`. */
export function trueSuccess(world: World, i: number, t: number): number {
  const profile = world.profiles[i] as ServiceProfile;
  const d = world.scenario.degrade;
  return d !== undefined && t >= d.atTask && d.label === profile.label ? d.success : profile.success;
}

export function trueUtility(world: World, i: number, t: number): number {
  return utility(trueSuccess(world, i, t), meanLatencyMs(world.profiles[i] as ServiceProfile));
}

/** The profile with the best true utility at task `t`. */
export function oracleChoice(world: World, t: number): number {
  let best = 0;
  for (let i = 1; i < world.profiles.length; i++) {
    if (trueUtility(world, i, t) > trueUtility(world, best, t)) best = i;
  }
  return best;
}

export type PolicyName =
  | 'oracle'
  | 'round-robin'
  | 'random'
  | 'least-loaded'
  | 'weighted'
  | 'learned'
  | 'learned-window'
  | 'learned-recent';

export const POLICIES: readonly PolicyName[] = [
  'oracle',
  'round-robin',
  'random',
  'least-loaded',
  'weighted',
  'learned',
  'learned-window',
  'learned-recent',
];

/** What one policy did with one world. */
export interface Run {
  policy: PolicyName;
  /** Profile index chosen for each task. */
  choice: Uint8Array;
  ok: Uint8Array;
  latencyMs: Float64Array;
  /** Learned policies: `confidenceFrom` the chosen service's statistics at decision time. */
  predicted?: Float64Array;
  /** 1 where the router chose other than its own best estimate (`RoutingDecision.explored`). */
  explored: Uint8Array;
}

export interface SimulationOptions {
  /** The window of the `learned-window` variant, in simulated seconds. */
  windowSeconds: number;
}

const TASK_TYPE = 'sim_task';
const NOW = new Date('2026-01-01T00:00:00.000Z');

interface Completion {
  endMs: number;
  service: number;
  ok: boolean;
  ms: number;
}

function addOutcome(counters: OutcomeCounters, ok: boolean, ms: number, sign: 1 | -1): void {
  counters.count += sign;
  if (ok) counters.successes += sign;
  else counters.failures += sign;
  counters.totalMs += sign * ms;
  const bucket = latencyBucket(ms);
  counters.histogram[bucket] = (counters.histogram[bucket] ?? 0) + sign;
}

/**
 * The router's view of the simulated registry and statistics. `statsFor` answers with all-time
 * counters, as `lib/store` does, or (the `learned-window` variant, which exists only here) with
 * the outcomes of the last `windowSeconds` of simulated time.
 */
class SimulatedPorts implements RouterPorts {
  readonly services: Service[];
  readonly allTime: ServiceStats[];
  readonly windowed: ServiceStats[] | undefined;
  readonly #window: Completion[] = [];
  #windowStart = 0;
  readonly #windowMs: number;
  readonly #ticks = new Map<string, number>();
  readonly random: () => number;

  /** Where the router finds recent statistics: only with the `learned-recent` policy, as lib/store offers them. */
  readonly recentStatsFor?: () => Promise<ServiceStats[]>;
  readonly #mode: 'all-time' | 'window' | 'recent';

  constructor(
    world: World,
    random: () => number,
    windowSeconds: number | undefined,
    mode: 'all-time' | 'window' | 'recent' = 'all-time',
  ) {
    this.#mode = mode;
    this.random = random;
    this.#windowMs = (windowSeconds ?? 0) * 1_000;
    this.services = world.profiles.map((profile, i) => ({
      name: world.names[i] as string,
      endpoint: `https://${world.names[i]}.example.com`,
      capabilities: [TASK_TYPE],
      weight: statedCapacity(profile),
      enabled: true,
      health: 'healthy',
      load: 0,
      consecutiveFailures: 0,
      version: 1,
      updatedAt: NOW.toISOString(),
    }));
    const stats = () => world.names.map((service) => ({ taskType: TASK_TYPE, service, ...emptyCounters() }));
    this.allTime = stats();
    this.windowed = windowSeconds === undefined ? undefined : stats();
    if (mode === 'recent') this.recentStatsFor = async () => this.windowed ?? [];
  }

  complete(c: Completion): void {
    (this.services[c.service] as Service).load--;
    addOutcome(this.allTime[c.service] as ServiceStats, c.ok, c.ms, 1);
    if (this.windowed) {
      addOutcome(this.windowed[c.service] as ServiceStats, c.ok, c.ms, 1);
      this.#window.push(c);
    }
  }

  /** Drops outcomes that finished more than the window before `nowMs`. */
  expire(nowMs: number): void {
    if (!this.windowed) return;
    while (this.#windowStart < this.#window.length) {
      const c = this.#window[this.#windowStart] as Completion;
      if (c.endMs >= nowMs - this.#windowMs) break;
      addOutcome(this.windowed[c.service] as ServiceStats, c.ok, c.ms, -1);
      this.#windowStart++;
    }
  }

  /** The statistics the router reads for service `i`. */
  statsOf(i: number): ServiceStats {
    if (this.#mode === 'recent') return evidenceOf(this.allTime[i], this.windowed?.[i]) as ServiceStats;
    return (this.#mode === 'window' ? this.windowed : this.allTime)?.[i] as ServiceStats;
  }

  async statsFor(): Promise<ServiceStats[]> {
    return this.#mode === 'window' ? (this.windowed ?? this.allTime) : this.allTime;
  }
  async listServices(): Promise<Service[]> {
    return this.services;
  }
  async nextTick(key: string): Promise<number> {
    const n = this.#ticks.get(key) ?? 0;
    this.#ticks.set(key, n + 1);
    return n;
  }
  async recordRoute(): Promise<void> {}
  async routeCounters(): Promise<Record<string, number>> {
    return {};
  }
  now(): Date {
    return NOW;
  }
}

/** Runs one policy over one world. `seed` drives the policy's own randomness only. */
export async function simulate(
  world: World,
  policy: PolicyName,
  seed: number,
  options: SimulationOptions = { windowSeconds: 60 },
): Promise<Run> {
  const n = world.scenario.tasks;
  const k = world.profiles.length;
  const run: Run = {
    policy,
    choice: new Uint8Array(n),
    ok: new Uint8Array(n),
    latencyMs: new Float64Array(n),
    explored: new Uint8Array(n),
  };
  const learning = policy === 'learned' || policy === 'learned-window' || policy === 'learned-recent';
  if (learning) run.predicted = new Float64Array(n);
  const ports = new SimulatedPorts(
    world,
    seeded(seed),
    policy === 'learned-window' || policy === 'learned-recent' ? options.windowSeconds : undefined,
    policy === 'learned-window' ? 'window' : policy === 'learned-recent' ? 'recent' : 'all-time',
  );
  const router = new Router(ports);
  const strategy: StrategyName = learning ? 'learned' : (policy as StrategyName);
  const index = new Map(world.names.map((name, i) => [name, i]));
  // Calls in flight, kept sorted by end time.
  const pending: Completion[] = [];

  for (let t = 0; t < n; t++) {
    const now = world.arrivalsMs[t] as number;
    let due = 0;
    while (due < pending.length && (pending[due] as Completion).endMs <= now) due++;
    for (const c of pending.splice(0, due)) ports.complete(c);
    ports.expire(now);

    let chosen: number;
    if (policy === 'oracle') {
      chosen = oracleChoice(world, t);
    } else {
      const decision = await router.route({ id: `task-${t}`, type: TASK_TYPE }, strategy);
      chosen = index.get(decision.primary) as number;
      if (decision.explored) run.explored[t] = 1;
    }
    if (run.predicted) run.predicted[t] = confidenceFrom(ports.statsOf(chosen));

    const ms = world.latenciesMs[t * k + chosen] as number;
    const ok = (world.uniforms[t * k + chosen] as number) < trueSuccess(world, chosen, t);
    run.choice[t] = chosen;
    run.ok[t] = ok ? 1 : 0;
    run.latencyMs[t] = ms;
    (ports.services[chosen] as Service).load++;
    const completion = { endMs: now + ms, service: chosen, ok, ms };
    let at = pending.length;
    while (at > 0 && (pending[at - 1] as Completion).endMs > completion.endMs) at--;
    pending.splice(at, 0, completion);
  }
  return run;
}

/** Linear-interpolated quantile of unsorted values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * (position - lower);
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export interface Spread {
  mean: number;
  min: number;
  max: number;
  sd: number;
}

/** Mean, extremes and sample standard deviation of the finite values (NaN when there is none). */
export function spread(values: readonly number[]): Spread {
  const xs = values.filter(Number.isFinite);
  if (xs.length === 0) return { mean: Number.NaN, min: Number.NaN, max: Number.NaN, sd: Number.NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length < 2 ? 0 : Math.sqrt(xs.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, min: Math.min(...xs), max: Math.max(...xs), sd };
}

/**
 * Tasks the router needs to move away from a degraded service: the first task index `s` at or
 * after `from` such that, in every window of `window` consecutive tasks starting at `s` or later,
 * less than `threshold` of the traffic goes to `target`; returned as `s - from`. Null when no such
 * index leaves a full window before the run ends.
 */
export function adaptationTasks(
  choice: ArrayLike<number>,
  target: number,
  from: number,
  window = 200,
  threshold = 0.2,
): number | null {
  const n = choice.length;
  if (n - from < window) return null;
  const hits = new Int32Array(n + 1);
  for (let t = 0; t < n; t++) hits[t + 1] = (hits[t] as number) + (choice[t] === target ? 1 : 0);
  let start = from;
  for (let s = n - window; s >= from; s--) {
    if (((hits[s + window] as number) - (hits[s] as number)) / window >= threshold) {
      start = s + 1;
      break;
    }
  }
  return start > n - window ? null : start - from;
}

export interface CalibrationBin {
  /** Lowest and highest prediction in the bin. */
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  observed: number;
}

/**
 * Reliability of predictions: decisions sorted by prediction and cut into `bins` groups of
 * (nearly) equal size, deciles by default, each with its mean prediction and observed success
 * rate; `ece` is the count-weighted mean gap between the two. Equal predictions always share a
 * group (a cut moves forward past them), so the order of ties, which follows time, cannot decide
 * what a group holds; groups can therefore be larger than n / bins, and fewer.
 */
export function calibration(
  predicted: ArrayLike<number>,
  ok: ArrayLike<number>,
  bins = 10,
): { bins: CalibrationBin[]; ece: number } {
  const n = predicted.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (predicted[a] as number) - (predicted[b] as number),
  );
  const at = (rank: number) => predicted[order[rank] as number] as number;
  const result: CalibrationBin[] = [];
  let ece = 0;
  let start = 0;
  for (let b = 1; b <= bins; b++) {
    let end = Math.floor((b * n) / bins);
    if (end <= start) continue;
    while (end < n && at(end) === at(end - 1)) end++;
    const members = order.slice(start, end);
    const meanPredicted = members.reduce((sum, i) => sum + (predicted[i] as number), 0) / members.length;
    const observed = members.reduce((sum, i) => sum + (ok[i] as number), 0) / members.length;
    ece += (members.length / n) * Math.abs(meanPredicted - observed);
    result.push({ from: at(start), to: at(end - 1), count: members.length, meanPredicted, observed });
    start = end;
  }
  return { bins: result, ece };
}

/** How one policy did on one world, against the oracle's run on the same world. */
export interface PolicyMetrics {
  successRate: number;
  /** Realised successes over the oracle's realised successes. */
  successRatio: number;
  /** Sum of the true success probabilities of the choices, over the oracle's. */
  expectedSuccessRatio: number;
  /** Oracle's mean true utility per task minus the policy's. */
  utilityRegret: number;
  p50Ms: number;
  p95Ms: number;
  p50Ratio: number;
  p95Ratio: number;
  /** Share of tasks sent to the oracle's choice. */
  bestShare: number;
  exploredShare: number;
}

function slice(run: Run, from: number, to: number) {
  return {
    ok: run.ok.subarray(from, to),
    latencyMs: run.latencyMs.subarray(from, to),
    choice: run.choice.subarray(from, to),
  };
}

/** Metrics over tasks `from` (inclusive) to `to` (exclusive). */
export function metrics(world: World, run: Run, oracle: Run, from = 0, to = run.ok.length): PolicyMetrics {
  const mine = slice(run, from, to);
  const best = slice(oracle, from, to);
  const n = to - from;
  const sum = (xs: ArrayLike<number>) => {
    let total = 0;
    for (let i = 0; i < xs.length; i++) total += xs[i] as number;
    return total;
  };
  let expected = 0;
  let expectedBest = 0;
  let regret = 0;
  let bestShare = 0;
  for (let t = from; t < to; t++) {
    const chosen = run.choice[t] as number;
    const ideal = oracle.choice[t] as number;
    expected += trueSuccess(world, chosen, t);
    expectedBest += trueSuccess(world, ideal, t);
    regret += trueUtility(world, ideal, t) - trueUtility(world, chosen, t);
    if (chosen === ideal) bestShare++;
  }
  const p50 = quantile(mine.latencyMs, 0.5);
  const p95 = quantile(mine.latencyMs, 0.95);
  return {
    successRate: sum(mine.ok) / n,
    successRatio: sum(mine.ok) / sum(best.ok),
    expectedSuccessRatio: expected / expectedBest,
    utilityRegret: regret / n,
    p50Ms: p50,
    p95Ms: p95,
    p50Ratio: p50 / quantile(best.latencyMs, 0.5),
    p95Ratio: p95 / quantile(best.latencyMs, 0.95),
    bestShare: bestShare / n,
    exploredShare: sum(run.explored.subarray(from, to)) / n,
  };
}

export interface RoutingQualityOptions {
  seeds: readonly number[];
  tasks: number;
  arrivalsPerSecond: number;
  degradeAt: number;
  degradedSuccess: number;
  windowSeconds: number;
  adaptationWindow: number;
  adaptationThreshold: number;
}

export const DEFAULT_OPTIONS: RoutingQualityOptions = {
  seeds: [1, 2, 3],
  tasks: 10_000,
  arrivalsPerSecond: 20,
  degradeAt: 5_000,
  degradedSuccess: 0.3,
  windowSeconds: 60,
  adaptationWindow: 200,
  adaptationThreshold: 0.2,
};

type Aggregate<T> = { [K in keyof T]: Spread };

function aggregate<T extends object>(items: readonly T[]): Aggregate<T> {
  const keys = Object.keys(items[0] ?? {}) as (keyof T)[];
  return Object.fromEntries(
    keys.map((key) => [key, spread(items.map((m) => Number(m[key])))]),
  ) as Aggregate<T>;
}

export interface AdaptationSummary {
  /** Tasks after the degradation until the router moved away, per seed (null: it never did). */
  perSeed: (number | null)[];
  adapted: Spread;
}

export interface RoutingQualityReport {
  setup: {
    tasks: number;
    arrivalsPerSecond: number;
    seeds: readonly number[];
    services: Array<ServiceProfile & { meanMs: number; trueUtility: number; weight: number }>;
    degradation: Degradation;
    windowSeconds: number;
    definitions: Record<string, string>;
  };
  stationary: Record<PolicyName, Aggregate<PolicyMetrics>>;
  degraded: {
    whole: Record<PolicyName, Aggregate<PolicyMetrics>>;
    afterDegradation: Record<PolicyName, Aggregate<PolicyMetrics>>;
    adaptation: Partial<Record<PolicyName, AdaptationSummary>>;
  };
  calibration: Record<'stationary' | 'degraded', Partial<Record<PolicyName, CalibrationSummary>>>;
}

export interface CalibrationSummary {
  /** Expected calibration error of each seed's run. */
  ece: Spread;
  /** The decisions of every seed together. */
  pooled: { bins: CalibrationBin[]; ece: number };
  perSeed: Array<{ seed: number; bins: CalibrationBin[] }>;
}

interface CalibrationRun {
  seed: number;
  predicted: Float64Array;
  ok: Uint8Array;
}

function summarizeCalibration(runs: readonly CalibrationRun[]): CalibrationSummary {
  const perSeed = runs.map((r) => ({ seed: r.seed, ...calibration(r.predicted, r.ok) }));
  const pooled = calibration(
    runs.flatMap((r) => [...r.predicted]),
    runs.flatMap((r) => [...r.ok]),
  );
  return {
    ece: spread(perSeed.map((c) => c.ece)),
    pooled,
    perSeed: perSeed.map(({ seed, bins }) => ({ seed, bins })),
  };
}

/** Runs every policy on every seed, stationary and with the best service degraded half-way. */
export async function routingQuality(
  options: RoutingQualityOptions = DEFAULT_OPTIONS,
): Promise<RoutingQualityReport> {
  const degradation: Degradation = {
    atTask: options.degradeAt,
    label: (PROFILES[0] as ServiceProfile).label,
    success: options.degradedSuccess,
  };
  const scenarios: Scenario[] = [
    { name: 'stationary', tasks: options.tasks, arrivalsPerSecond: options.arrivalsPerSecond },
    {
      name: 'degraded',
      tasks: options.tasks,
      arrivalsPerSecond: options.arrivalsPerSecond,
      degrade: degradation,
    },
  ];
  const collected = {
    stationary: new Map<PolicyName, PolicyMetrics[]>(),
    degradedWhole: new Map<PolicyName, PolicyMetrics[]>(),
    degradedAfter: new Map<PolicyName, PolicyMetrics[]>(),
    adaptation: new Map<PolicyName, (number | null)[]>(),
    calibration: {
      stationary: new Map<PolicyName, CalibrationRun[]>(),
      degraded: new Map<PolicyName, CalibrationRun[]>(),
    },
  };
  const push = <V>(map: Map<PolicyName, V[]>, key: PolicyName, value: V) => {
    const list = map.get(key) ?? [];
    list.push(value);
    map.set(key, list);
  };

  for (const seed of options.seeds) {
    for (const scenario of scenarios) {
      const world = makeWorld(PROFILES, scenario, seed);
      const runs = new Map<PolicyName, Run>();
      for (const [p, policy] of POLICIES.entries()) {
        runs.set(policy, await simulate(world, policy, seed * 1_000 + p, options));
      }
      const oracle = runs.get('oracle') as Run;
      for (const [policy, run] of runs) {
        if (scenario.degrade === undefined) {
          push(collected.stationary, policy, metrics(world, run, oracle));
        } else {
          push(collected.degradedWhole, policy, metrics(world, run, oracle));
          push(collected.degradedAfter, policy, metrics(world, run, oracle, scenario.degrade.atTask));
          push(
            collected.adaptation,
            policy,
            adaptationTasks(
              run.choice,
              PROFILES.findIndex((p) => p.label === degradation.label),
              scenario.degrade.atTask,
              options.adaptationWindow,
              options.adaptationThreshold,
            ),
          );
        }
        if (run.predicted) {
          const target = scenario.degrade === undefined ? 'stationary' : 'degraded';
          push(collected.calibration[target], policy, { seed, predicted: run.predicted, ok: run.ok });
        }
      }
    }
  }

  const byPolicy = <V, R>(map: Map<PolicyName, V[]>, f: (values: V[]) => R) =>
    Object.fromEntries([...map].map(([policy, values]) => [policy, f(values)])) as Record<PolicyName, R>;
  const referenceWorld = makeWorld(PROFILES, scenarios[0] as Scenario, 0);
  return {
    setup: {
      tasks: options.tasks,
      arrivalsPerSecond: options.arrivalsPerSecond,
      seeds: options.seeds,
      services: PROFILES.map((profile, i) => ({
        ...profile,
        meanMs: meanLatencyMs(profile),
        trueUtility: trueUtility(referenceWorld, i, 0),
        weight: statedCapacity(profile),
      })),
      degradation,
      windowSeconds: options.windowSeconds,
      definitions: {
        world:
          'Poisson arrivals; per task and service a pre-drawn success uniform and lognormal latency shared by all policies; one call per task (no retries or failover); outcomes reach the statistics when the call ends',
        oracle:
          'the service with the best true utility, utility = p(success) - 0.2 x mean / (mean + 5000 ms)',
        weights: 'stated capacity = 1000 / median latency (ms), set on the registry for every strategy',
        'learned-recent': `the real learned strategy as lib/ wires it: recent statistics (here the last ${options.windowSeconds} s of simulated time; 15 minutes in the orchestrator) lead, all-time counters weigh as a prior of at most 20 calls`,
        'learned-window': `the real learned strategy reading only outcomes that ended in the last ${options.windowSeconds} s of simulated time (a variant of the bench's RoutingContext, not of lib/)`,
        successRatio: 'realised successes / the oracle realised successes on the same draws',
        latencyRatio: 'p50 (p95) of the chosen calls latency / the oracle p50 (p95)',
        utilityRegret: 'mean over tasks of (oracle true utility - chosen true utility)',
        adaptation: `first task index s >= ${options.degradeAt} such that every ${options.adaptationWindow}-task window starting at or after s sends < ${options.adaptationThreshold * 100}% of tasks to the degraded service; reported as s - ${options.degradeAt}; null = never within the run`,
        calibration:
          'per decision, predicted = confidenceFrom(statistics of the chosen service when routed); decisions sorted by prediction, cut into 10 equal-count bins (equal predictions kept in one bin, so bins can be fewer and larger); observed = success rate in the bin; ece = count-weighted |predicted - observed|',
      },
    },
    stationary: byPolicy(collected.stationary, aggregate),
    degraded: {
      whole: byPolicy(collected.degradedWhole, aggregate),
      afterDegradation: byPolicy(collected.degradedAfter, aggregate),
      adaptation: byPolicy(collected.adaptation, (perSeed) => ({
        perSeed,
        adapted: spread(perSeed.filter((v): v is number => v !== null)),
      })),
    },
    calibration: {
      stationary: byPolicy(collected.calibration.stationary, summarizeCalibration),
      degraded: byPolicy(collected.calibration.degraded, summarizeCalibration),
    },
  };
}
