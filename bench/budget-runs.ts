/**
 * Budgeted runs: a seeded simulation of workflow runs started with a cost cap, a deadline or both,
 * routed step by step through the budget planner of `lib/core/workflow/budget.ts`.
 *
 * **The world.** Each run is a random DAG of 3-8 steps (the workflow tests' generator). Each step
 * has 2-3 services, listed from the dearest (the best quality, which a router preferring quality
 * picks first) to the cheapest; some steps fan out over 2-6 items, 1-3 at a time. The planner is
 * told the true means: what learned statistics converge to. Actual costs are drawn uniform within
 * +-{@link COST_SPREAD} of the mean (15%), inside the planner's default 20% reserve, so a cost cap
 * should never be overrun. Latencies are lognormal around their median (log standard deviation
 * {@link LATENCY_SIGMA}); a good share of calls take more than the reserve allows, so deadlines
 * can be overrun: the deadline check only stops runs that can no longer make it even at the
 * fastest. Every draw is made up front, per step, service and item, so the unchecked baseline
 * sees the same outcomes as the planner when it makes the same choice.
 *
 * **Budgets.** Each limit is drawn against the run's floors (the cheapest way, the fastest critical
 * path) and its preferred way (every step at its dearest service): generous (above the preferred
 * way with the reserve), tight (between the floor and the preferred way, with the reserve) or
 * impossible (below the floor with the reserve).
 *
 * **A run.** Refused when the start check refuses it. Otherwise every step, once its dependencies
 * have ended, is routed to the first service the planner allows (the dearest that fits), the
 * steps in flight held at the services they run; when the planner allows none, the run stops with
 * `BudgetExceeded` and the steps in flight still cost what they cost.
 */
import {
  admissibleOptions,
  type BudgetStep,
  checkBudgetAtStart,
  DEFAULT_BUDGET_MARGIN,
  type RunBudget,
  remainingFloor,
  type StepOption,
} from '../lib/core/workflow/budget.ts';
import { randomDag, seeded, sid } from '../test/unit/workflow/support.ts';

/** Actual cost = mean x (1 + u), u uniform in [-COST_SPREAD, COST_SPREAD]. */
export const COST_SPREAD = 0.15;
/** Latencies are lognormal: the log of a latency has this standard deviation. */
export const LATENCY_SIGMA = 0.3;

const SERVICES = ['premium', 'standard', 'economy'] as const;

export type BudgetKind = 'generous' | 'tight' | 'impossible';

/** One simulated run: its steps (services dearest first), its budget and every actual outcome. */
export interface SimulatedRun {
  steps: BudgetStep[];
  budget: RunBudget;
  kinds: { cost?: BudgetKind; deadline?: BudgetKind };
  /** Actual cost of each item: [step][option][item]. */
  costsUsd: number[][][];
  /** Actual latency of each item: [step][option][item]. */
  latenciesMs: number[][][];
}

export interface RunOutcome {
  status: 'refused' | 'completed' | 'stopped';
  /** With `stopped` or `refused`: the limit the planner could not keep. */
  limit?: 'cost' | 'deadline' | 'both';
  spentUsd: number;
  /** When the run ended (completed, or stopped), from its start. */
  endMs: number;
  /** Steps started, and among them those routed to a cheaper service than their dearest. */
  stepsRun: number;
  downgraded: number;
  /** A step was downgraded after another had run at its dearest service. */
  downgradedAfterPreferred: boolean;
}

const between = (random: () => number, min: number, max: number) => min + (max - min) * random();
const int = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const normal = (random: () => number) =>
  Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

function drawKind(random: () => number): BudgetKind {
  const u = random();
  return u < 0.3 ? 'generous' : u < 0.85 ? 'tight' : 'impossible';
}

/** A limit of the given kind between the floor and the preferred way, `reserve` = 1 + margin. */
function drawLimit(
  random: () => number,
  kind: BudgetKind,
  floor: number,
  preferred: number,
  reserve: number,
) {
  if (kind === 'generous') return preferred * reserve * between(random, 1.1, 1.6);
  if (kind === 'tight') return reserve * (floor + (preferred - floor) * between(random, 0.05, 0.9));
  return floor * between(random, 0.6, reserve * 0.98);
}

/** Draws one run: its DAG, services, budget and outcomes. */
export function makeRun(random: () => number, margin = DEFAULT_BUDGET_MARGIN): SimulatedRun {
  const n = int(random, 3, 8);
  const deps = randomDag(n, random, 2);
  const costsUsd: number[][][] = [];
  const latenciesMs: number[][][] = [];
  const steps = deps.map((stepDeps, i): BudgetStep => {
    const count = int(random, 2, 3);
    const fanOut = random() < 0.2;
    const times = fanOut ? int(random, 2, 6) : 1;
    let costUsd = 0.02 * 10 ** (1.5 * random());
    const options: StepOption[] = [];
    const costs: number[][] = [];
    const latencies: number[][] = [];
    for (let k = 0; k < count; k++) {
      const medianMs = 500 * 10 ** (1.2 * random());
      options.push({
        service: SERVICES[k] as string,
        expectedCostUsd: costUsd,
        expectedMs: medianMs * Math.exp(LATENCY_SIGMA ** 2 / 2),
      });
      costs.push(Array.from({ length: times }, () => costUsd * (1 + COST_SPREAD * (2 * random() - 1))));
      latencies.push(
        Array.from({ length: times }, () => medianMs * Math.exp(LATENCY_SIGMA * normal(random))),
      );
      costUsd *= between(random, 0.25, 0.6);
    }
    costsUsd.push(costs);
    latenciesMs.push(latencies);
    return {
      id: sid(i),
      dependsOn: stepDeps.map(sid),
      options,
      ...(fanOut ? { times, concurrency: int(random, 1, 3) } : {}),
    };
  });

  const floor = remainingFloor(steps, new Set());
  const preferred = remainingFloor(
    steps.map((step) => ({ ...step, options: step.options.slice(0, 1) })),
    new Set(),
  );
  const reserve = 1 + margin;
  const which = random();
  const kinds: SimulatedRun['kinds'] = {};
  const budget: RunBudget = {};
  if (which < 0.8) {
    kinds.cost = drawKind(random);
    budget.max_cost_usd = drawLimit(random, kinds.cost, floor.costUsd, preferred.costUsd, reserve);
  }
  if (which >= 0.4) {
    kinds.deadline = drawKind(random);
    const ms = drawLimit(random, kinds.deadline, floor.criticalPathMs, preferred.criticalPathMs, reserve);
    budget.deadline_seconds = ms / 1_000;
  }
  return { steps, budget, kinds, costsUsd, latenciesMs };
}

/** How long the items of a step take: waves of `concurrency` side by side, each as long as its slowest. */
function durationOf(step: BudgetStep, latencies: readonly number[]): number {
  const wave = step.concurrency ?? latencies.length;
  let total = 0;
  for (let i = 0; i < latencies.length; i += wave) total += Math.max(...latencies.slice(i, i + wave));
  return total;
}

/**
 * Runs one simulated run. `planned`: checked at start and routed through the planner; otherwise
 * (the baseline) every step takes its dearest service, unchecked.
 */
export function simulateRun(run: SimulatedRun, planned: boolean, margin = DEFAULT_BUDGET_MARGIN): RunOutcome {
  const outcome: RunOutcome = {
    status: 'completed',
    spentUsd: 0,
    endMs: 0,
    stepsRun: 0,
    downgraded: 0,
    downgradedAfterPreferred: false,
  };
  if (planned) {
    const start = checkBudgetAtStart(run.budget, run.steps, margin);
    if (!start.ok) return { ...outcome, status: 'refused', limit: start.limit };
  }
  const ended = new Set<string>();
  const running = new Map<string, StepOption>();
  const inFlight: { id: string; endMs: number; costUsd: number }[] = [];
  let now = 0;
  let ranPreferred = false;
  for (;;) {
    for (const [i, step] of run.steps.entries()) {
      if (ended.has(step.id) || running.has(step.id) || !step.dependsOn.every((d) => ended.has(d))) continue;
      let k = 0;
      if (planned) {
        const state = { spentUsd: outcome.spentUsd, elapsedMs: now, ended, running };
        const check = admissibleOptions(run.budget, run.steps, step.id, state, margin);
        if (!check.ok) {
          for (const call of inFlight) outcome.spentUsd += call.costUsd;
          return { ...outcome, status: 'stopped', limit: check.limit, endMs: now };
        }
        k = step.options.findIndex((option) => option.service === check.allowed[0]);
      }
      outcome.stepsRun++;
      if (k > 0) {
        outcome.downgraded++;
        if (ranPreferred) outcome.downgradedAfterPreferred = true;
      } else ranPreferred = true;
      running.set(step.id, step.options[k] as StepOption);
      const costs = run.costsUsd[i]?.[k] as number[];
      inFlight.push({
        id: step.id,
        endMs: now + durationOf(step, run.latenciesMs[i]?.[k] as number[]),
        costUsd: costs.reduce((a, b) => a + b, 0),
      });
    }
    if (inFlight.length === 0) break;
    now = Math.min(...inFlight.map((call) => call.endMs));
    for (let j = inFlight.length - 1; j >= 0; j--) {
      const call = inFlight[j] as (typeof inFlight)[number];
      if (call.endMs > now) continue;
      outcome.spentUsd += call.costUsd;
      ended.add(call.id);
      running.delete(call.id);
      inFlight.splice(j, 1);
    }
  }
  return { ...outcome, endMs: now };
}

const costOverrun = (run: SimulatedRun, outcome: RunOutcome) =>
  run.budget.max_cost_usd !== undefined && outcome.spentUsd > run.budget.max_cost_usd;
const deadlineOverrun = (run: SimulatedRun, outcome: RunOutcome) =>
  run.budget.deadline_seconds !== undefined && outcome.endMs > run.budget.deadline_seconds * 1_000;

export interface BudgetBenchReport {
  setup: {
    seed: number;
    margin: number;
    costSpread: number;
    latencySigma: number;
    definitions: Record<string, string>;
  };
  runs: number;
  /** Budgets drawn below the floor with the reserve (for at least one limit). */
  drawnImpossible: number;
  refusedAtStart: number;
  completed: number;
  stoppedBudgetExceeded: number;
  stoppedBy: { cost: number; deadline: number; both: number };
  /** Completed or stopped runs that spent more than their cost cap. */
  overruns: number;
  /** Completed or stopped runs that ended after their deadline. */
  deadlineOverruns: number;
  /** Admitted runs with a step routed to a cheaper service than its dearest. */
  switchedToCheaper: number;
  /** ...of which a step after one that ran at its dearest. */
  switchedAfterPreferred: number;
  steps: { run: number; downgraded: number };
  /** Mean of spent / cap over the admitted runs with a cost cap. */
  meanCostShare: number;
  /** The admitted runs again, every step at its dearest service and nothing checked. */
  unchecked: { runs: number; overruns: number; deadlineOverruns: number };
  elapsedMs: number;
}

/** Simulates `runs` budgeted runs (default 1,000) from `seed` (default 1). */
export function budgetBench(options: { seed?: number; runs?: number } = {}): BudgetBenchReport {
  const { seed = 1, runs = 1_000 } = options;
  const margin = DEFAULT_BUDGET_MARGIN;
  const started = performance.now();
  const random = seeded(seed);
  const report: Omit<BudgetBenchReport, 'setup' | 'elapsedMs' | 'meanCostShare'> = {
    runs,
    drawnImpossible: 0,
    refusedAtStart: 0,
    completed: 0,
    stoppedBudgetExceeded: 0,
    stoppedBy: { cost: 0, deadline: 0, both: 0 },
    overruns: 0,
    deadlineOverruns: 0,
    switchedToCheaper: 0,
    switchedAfterPreferred: 0,
    steps: { run: 0, downgraded: 0 },
    unchecked: { runs: 0, overruns: 0, deadlineOverruns: 0 },
  };
  const shares: number[] = [];
  for (let r = 0; r < runs; r++) {
    const run = makeRun(random, margin);
    if (run.kinds.cost === 'impossible' || run.kinds.deadline === 'impossible') report.drawnImpossible++;
    const outcome = simulateRun(run, true, margin);
    if (outcome.status === 'refused') {
      report.refusedAtStart++;
      continue;
    }
    if (outcome.status === 'completed') report.completed++;
    else {
      report.stoppedBudgetExceeded++;
      report.stoppedBy[outcome.limit ?? 'both']++;
    }
    if (costOverrun(run, outcome)) report.overruns++;
    if (deadlineOverrun(run, outcome)) report.deadlineOverruns++;
    if (outcome.downgraded > 0) report.switchedToCheaper++;
    if (outcome.downgradedAfterPreferred) report.switchedAfterPreferred++;
    report.steps.run += outcome.stepsRun;
    report.steps.downgraded += outcome.downgraded;
    if (run.budget.max_cost_usd !== undefined) shares.push(outcome.spentUsd / run.budget.max_cost_usd);

    const baseline = simulateRun(run, false, margin);
    report.unchecked.runs++;
    if (costOverrun(run, baseline)) report.unchecked.overruns++;
    if (deadlineOverrun(run, baseline)) report.unchecked.deadlineOverruns++;
  }
  return {
    setup: {
      seed,
      margin,
      costSpread: COST_SPREAD,
      latencySigma: LATENCY_SIGMA,
      definitions: {
        world: `random DAGs of 3-8 steps, 2-3 services a step (dearest preferred), 20% of steps fan out over 2-6 items 1-3 at a time; actual cost uniform within +-${COST_SPREAD * 100}% of the mean, latency lognormal (log sd ${LATENCY_SIGMA}); the planner knows the means`,
        budgets:
          '20% deadline only, 40% cost only, 40% both; each limit generous (30%), tight (55%) or impossible (15%: below the floor with the reserve)',
        overruns:
          'completed or stopped runs whose actual spend (steps in flight at a stop included) exceeds the cap',
        deadlineOverruns: 'completed or stopped runs ending after the deadline',
        unchecked:
          'the admitted runs with every step at its dearest service and no check: what the planner prevents',
      },
    },
    ...report,
    meanCostShare: shares.length === 0 ? Number.NaN : shares.reduce((a, b) => a + b, 0) / shares.length,
    elapsedMs: performance.now() - started,
  };
}
