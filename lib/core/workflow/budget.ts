/**
 * Budgeted runs: a run may start with a cap on what it costs (`max_cost_usd`), on how long it
 * takes (`deadline_seconds`), or both. Before each step is routed, the planner keeps only the
 * services with which the run can still finish within the budget; when none is left the run fails
 * with `BudgetExceeded` before it spends more, and a budget out of reach from the start is
 * refused at start. Everything here is pure: the caller supplies what each way of doing a step is
 * expected to cost and take (learned means, or a declared cost) and what the run has spent so far.
 *
 * **Cost.** An option of the step being routed is admissible when
 * `spent + held + option + floor(rest) <= max_cost_usd`, where `held` is what the steps in flight
 * are expected to cost at the options they run, and `floor(rest)` is every step not yet started
 * at its cheapest option. This keeps an invariant: whatever option a step takes, the cheapest way
 * to finish still fits. So when every actual cost is at most `(1 + margin)` times its expectation,
 * a run admitted at start never exceeds its cap and never runs out of options for cost (the
 * cheapest option of the next step is always admissible). When a call costs more than that, the
 * run is stopped at the first step whose cheapest way on no longer fits: before it spends more,
 * although what the overrunning call cost is already spent.
 *
 * **Time.** Steps in parallel do not add up: what counts is the critical path, the longest chain
 * of dependencies over the steps not yet started. An option is admissible when
 * `elapsed + longest path <= deadline`, the path taken over the steps not yet started with the
 * routed step at this option's time and every other step at its fastest option. The path through
 * the routed step is its own time plus the longest chain of the steps that wait for it (its
 * ancestors have ended once it is ready), and the paths not through it must fit as well: the one
 * rule covers both. Steps in flight count as ending now (their remaining time is unknown), so
 * this is a floor: the check refuses a step only when the deadline is out of reach even at the
 * fastest; it does not promise the deadline, because latencies have long tails.
 *
 * **Margin.** Every expectation, the steps in flight, the option and the rest, is inflated by
 * `1 + margin` (default 0.2): a reserve against the spread of actual costs and times around their
 * means. What is spent and the time elapsed are facts and are not inflated. The start check uses
 * the same reserve, so a run it admits can take the cheapest way at every step.
 *
 * **Fan-out.** A step run `times` times costs `times` x the option's cost and takes
 * `ceil(times / concurrency)` waves of the option's time (the items of a wave run side by side;
 * `concurrency` defaults to the `for_each` default, {@link DEFAULT_MAX_CONCURRENCY}). A wave takes
 * as long as its slowest item, so this underestimates a wide wave.
 *
 * **Approximations.** Cost and time floors are taken apart: the cheapest way for cost, the
 * fastest for time. With both limits a run can pass the start check and later find no option
 * that keeps both (its cheap options too slow, its fast ones too dear): choosing the cheapest way
 * that meets a deadline is the time-cost trade-off problem, not attempted here. Dependencies that
 * name no listed step are ignored, as in `dag.ts`.
 */
import * as z from 'zod';
import { criticalPath, type Dag } from './dag.ts';
import { DEFAULT_MAX_CONCURRENCY } from './fan-out.ts';
import { MAX_TIMEOUT_SECONDS } from './template.ts';

/** The default reserve: expectations are inflated by 20%. */
export const DEFAULT_BUDGET_MARGIN = 0.2;

/** Relative slack of every comparison, so that sums taken in another order still fit. */
const ROUNDING = 1e-9;

/** The budget a run may start with: a cost cap, a deadline, or both. */
export const runBudgetSchema = z
  .object({
    /** Most the run may cost, in US dollars. */
    max_cost_usd: z.number().positive().max(1e6).optional(),
    /** Most the run may take from its start, in seconds (at most a year, as a standard workflow). */
    deadline_seconds: z.number().positive().max(MAX_TIMEOUT_SECONDS).optional(),
  })
  .strict()
  .refine(
    (budget) => budget.max_cost_usd !== undefined || budget.deadline_seconds !== undefined,
    'give max_cost_usd, deadline_seconds or both',
  );

export type RunBudget = z.output<typeof runBudgetSchema>;

/** One way to do a step: a service and what it is expected to cost and take (learned means, or declared cost). */
export interface StepOption {
  service: string;
  expectedCostUsd: number;
  expectedMs: number;
}

/** A step as the planner sees it: its dependencies and the ways it can be done. */
export interface BudgetStep {
  id: string;
  dependsOn: readonly string[];
  /** At least one; listed in the router's order of preference. */
  options: readonly StepOption[];
  /** Fan-out multiplier: the step runs this many times (default 1). */
  times?: number;
  /** Fan-out: how many of the `times` run side by side (default {@link DEFAULT_MAX_CONCURRENCY}). */
  concurrency?: number;
}

/** Where a run stands when a step is routed. */
export interface BudgetState {
  /** What the ended steps cost, in US dollars. */
  spentUsd: number;
  /** Time since the run started, in milliseconds. */
  elapsedMs: number;
  /** Steps that will cost nothing more: succeeded, failed or skipped. */
  ended: ReadonlySet<string>;
  /**
   * Steps started and not ended (parallel branches), with the option each runs: their expected
   * cost is held. Without it a step in flight counts at its cheapest option. A step routed again
   * (a failover) is not held against itself.
   */
  running?: ReadonlyMap<string, StepOption>;
}

/** Why a run cannot keep its budget, in words and in figures (money in USD, time in ms). */
export interface BudgetRefusal {
  ok: false;
  error: 'BudgetExceeded';
  /** Which limit cannot be kept: `both` also when each can, but no option keeps the two. */
  limit: 'cost' | 'deadline' | 'both';
  /** Plain words with the figures: spent, left, the cheapest way on, and so on. */
  cause: string;
  figures: Record<string, number>;
}

export type BudgetCheck =
  | {
      ok: true;
      /** Services for this step that keep the run within budget, in the order given. */
      allowed: string[];
    }
  | BudgetRefusal;

export type StartCheck =
  | {
      ok: true;
      /** The cheapest way through, as expected (without the reserve). */
      minCostUsd: number;
      /** The fastest critical path, as expected (without the reserve). */
      minCriticalPathMs: number;
    }
  | BudgetRefusal;

/**
 * Cheapest remaining cost and shortest remaining critical path, each step at its cheapest /
 * fastest option, over the steps neither in `ended` nor `except`. Expectations as given, without
 * the reserve. Throws a RangeError on a malformed step.
 */
export function remainingFloor(
  steps: readonly BudgetStep[],
  ended: ReadonlySet<string>,
  except?: string,
): { costUsd: number; criticalPathMs: number } {
  checkSteps(steps);
  const left = steps.filter((step) => !ended.has(step.id) && step.id !== except);
  const costUsd = left.reduce((sum, step) => sum + Math.min(...step.options.map((o) => costOf(step, o))), 0);
  return { costUsd, criticalPathMs: longestPath(left, 1) };
}

/**
 * Which options of `stepId` keep the run within budget: spent + held for steps in flight + this
 * option + the floor of the rest (excluding ended steps, those in flight and this one) within the
 * cost cap, and elapsed + the critical path left with this step at this option within the
 * deadline; expectations inflated by `1 + margin`. A refusal says which limit and why, with the
 * figures. Throws a RangeError on an unknown or ended step, a malformed step or state.
 */
export function admissibleOptions(
  budget: RunBudget,
  steps: readonly BudgetStep[],
  stepId: string,
  state: BudgetState,
  margin = DEFAULT_BUDGET_MARGIN,
): BudgetCheck {
  const byId = checkSteps(steps);
  checkMargin(margin);
  const step = byId.get(stepId);
  if (!step) throw new RangeError(`unknown step '${stepId}'`);
  if (state.ended.has(stepId)) throw new RangeError(`step '${stepId}' has ended`);
  if (!(state.spentUsd >= 0 && Number.isFinite(state.spentUsd)))
    throw new RangeError(`spentUsd must be a finite number >= 0, got ${state.spentUsd}`);
  if (!(state.elapsedMs >= 0 && Number.isFinite(state.elapsedMs)))
    throw new RangeError(`elapsedMs must be a finite number >= 0, got ${state.elapsedMs}`);

  const inflate = 1 + margin;
  let heldUsd = 0;
  const settled = new Set(state.ended);
  for (const [id, option] of state.running ?? []) {
    if (id === stepId || state.ended.has(id)) continue;
    const running = byId.get(id);
    if (!running) throw new RangeError(`unknown running step '${id}'`);
    checkOption(running, option);
    heldUsd += costOf(running, option) * inflate;
    settled.add(id);
  }
  const restUsd = remainingFloor(steps, settled, stepId).costUsd * inflate;
  const left = steps.filter((s) => !settled.has(s.id));

  const maxUsd = budget.max_cost_usd;
  const deadlineMs = budget.deadline_seconds === undefined ? undefined : budget.deadline_seconds * 1_000;
  const assessed = step.options.map((option) => {
    const needUsd = state.spentUsd + heldUsd + costOf(step, option) * inflate + restUsd;
    const pathMs = longestPath(left, inflate, { id: stepId, ms: timeOf(step, option) });
    return {
      option,
      optionUsd: costOf(step, option) * inflate,
      pathMs,
      costOk: maxUsd === undefined || fits(needUsd, maxUsd),
      timeOk: deadlineMs === undefined || fits(state.elapsedMs + pathMs, deadlineMs),
    };
  });
  const allowed = assessed.filter((a) => a.costOk && a.timeOk).map((a) => a.option.service);
  if (allowed.length > 0) return { ok: true, allowed };

  const figures: Record<string, number> = { margin };
  const words: string[] = [];
  const costFails = !assessed.some((a) => a.costOk);
  const timeFails = !assessed.some((a) => a.timeOk);
  if (maxUsd !== undefined) {
    const leftUsd = maxUsd - state.spentUsd - heldUsd;
    const cheapestUsd = Math.min(...assessed.map((a) => a.optionUsd));
    Object.assign(figures, {
      maxCostUsd: maxUsd,
      spentUsd: state.spentUsd,
      heldUsd,
      leftUsd,
      cheapestStepUsd: cheapestUsd,
      restFloorUsd: restUsd,
    });
    if (costFails || !timeFails)
      words.push(
        `the run has spent ${usd(state.spentUsd)} of ${usd(maxUsd)}` +
          (heldUsd > 0 ? ` and holds ${usd(heldUsd)} for steps in flight` : '') +
          `, leaving ${usd(leftUsd)}; the cheapest way on costs ${usd(cheapestUsd + restUsd)} with the ${percent(margin)} reserve (${usd(cheapestUsd)} for this step, ${usd(restUsd)} for the steps after it)`,
      );
  }
  if (deadlineMs !== undefined) {
    const fastestMs = Math.min(...assessed.map((a) => a.pathMs));
    Object.assign(figures, {
      deadlineMs,
      elapsedMs: state.elapsedMs,
      leftMs: deadlineMs - state.elapsedMs,
      fastestPathMs: fastestMs,
    });
    if (timeFails || !costFails)
      words.push(
        `${seconds(state.elapsedMs)} of the ${seconds(deadlineMs)} deadline have passed, leaving ${seconds(deadlineMs - state.elapsedMs)}; the fastest critical path left takes ${seconds(fastestMs)} with the ${percent(margin)} reserve`,
      );
  }
  const limit = costFails && !timeFails ? 'cost' : timeFails && !costFails ? 'deadline' : 'both';
  const lead =
    !costFails && !timeFails
      ? `no service for step '${stepId}' keeps both the cost cap and the deadline (those cheap enough are too slow)`
      : `no service for step '${stepId}' keeps the run within its budget`;
  return { ok: false, error: 'BudgetExceeded', limit, cause: `${lead}: ${words.join('; ')}`, figures };
}

/**
 * What a step routed to `service` commits of the cost cap (its expected cost with the reserve),
 * and the most the run may already have committed for it to go ahead: what leaves room for this
 * step and the cheapest way through the steps neither in `settled` nor this one, under the same
 * rounding rule as {@link admissibleOptions}. `refusal` says why, for when the run has committed
 * more than that by the time the step commits (parallel steps took the budget first).
 */
export function budgetCommitment(
  maxCostUsd: number,
  steps: readonly BudgetStep[],
  stepId: string,
  settled: ReadonlySet<string>,
  service: string,
  margin = DEFAULT_BUDGET_MARGIN,
): { amountUsd: number; ceilingUsd: number; refusal: BudgetRefusal } {
  const step = checkSteps(steps).get(stepId);
  if (!step) throw new RangeError(`unknown step '${stepId}'`);
  const inflate = 1 + margin;
  const option = step.options.find((o) => o.service === service);
  const amountUsd = option ? costOf(step, option) * inflate : 0;
  const restUsd = remainingFloor(steps, settled, stepId).costUsd * inflate;
  return {
    amountUsd,
    ceilingUsd: maxCostUsd * (1 + ROUNDING) - amountUsd - restUsd,
    refusal: {
      ok: false,
      error: 'BudgetExceeded',
      limit: 'cost',
      cause: `other steps of the run committed the budget first: ${service} (about ${usd(amountUsd)}) and the cheapest way through the rest (${usd(restUsd)}) no longer fit in ${usd(maxCostUsd)}`,
      figures: { maxCostUsd, stepUsd: amountUsd, restUsd },
    },
  };
}

/**
 * At start: refused when even the cheapest way, with the reserve, exceeds the cost cap, or the
 * fastest critical path, with the reserve, exceeds the deadline (both reasons given when both
 * hold). Otherwise the cheapest cost and fastest critical path as expected, without the reserve.
 */
export function checkBudgetAtStart(
  budget: RunBudget,
  steps: readonly BudgetStep[],
  margin = DEFAULT_BUDGET_MARGIN,
): StartCheck {
  checkMargin(margin);
  const floor = remainingFloor(steps, new Set());
  const inflate = 1 + margin;
  const figures: Record<string, number> = {
    margin,
    minCostUsd: floor.costUsd,
    minCriticalPathMs: floor.criticalPathMs,
  };
  const words: string[] = [];
  let costFails = false;
  let timeFails = false;
  if (budget.max_cost_usd !== undefined) {
    figures.maxCostUsd = budget.max_cost_usd;
    figures.minCostWithReserveUsd = floor.costUsd * inflate;
    costFails = !fits(floor.costUsd * inflate, budget.max_cost_usd);
    if (costFails)
      words.push(
        `the cheapest way through is expected to cost ${usd(floor.costUsd)} (${usd(floor.costUsd * inflate)} with the ${percent(margin)} reserve), more than the ${usd(budget.max_cost_usd)} allowed`,
      );
  }
  if (budget.deadline_seconds !== undefined) {
    const deadlineMs = budget.deadline_seconds * 1_000;
    figures.deadlineMs = deadlineMs;
    figures.minCriticalPathWithReserveMs = floor.criticalPathMs * inflate;
    timeFails = !fits(floor.criticalPathMs * inflate, deadlineMs);
    if (timeFails)
      words.push(
        `the fastest critical path is expected to take ${seconds(floor.criticalPathMs)} (${seconds(floor.criticalPathMs * inflate)} with the ${percent(margin)} reserve), longer than the ${seconds(deadlineMs)} deadline`,
      );
  }
  if (!costFails && !timeFails)
    return { ok: true, minCostUsd: floor.costUsd, minCriticalPathMs: floor.criticalPathMs };
  return {
    ok: false,
    error: 'BudgetExceeded',
    limit: costFails && timeFails ? 'both' : costFails ? 'cost' : 'deadline',
    cause: `the budget cannot be kept: ${words.join('; ')}`,
    figures,
  };
}

/** Longest chain over `steps`, each at its fastest option (or `at.ms` for `at.id`) times `inflate`. */
function longestPath(steps: readonly BudgetStep[], inflate: number, at?: { id: string; ms: number }): number {
  const dag: Dag = new Map(steps.map((step) => [step.id, step.dependsOn]));
  const durations = new Map(
    steps.map((step) => [
      step.id,
      (step.id === at?.id ? at.ms : Math.min(...step.options.map((o) => timeOf(step, o)))) * inflate,
    ]),
  );
  return criticalPath(dag, Object.fromEntries(durations)).length;
}

function costOf(step: BudgetStep, option: StepOption): number {
  return (step.times ?? 1) * option.expectedCostUsd;
}

function timeOf(step: BudgetStep, option: StepOption): number {
  const times = step.times ?? 1;
  return times === 0
    ? 0
    : Math.ceil(times / (step.concurrency ?? DEFAULT_MAX_CONCURRENCY)) * option.expectedMs;
}

function fits(value: number, limit: number): boolean {
  return value <= limit * (1 + ROUNDING);
}

/** The steps by id; throws a RangeError on a repeated id or a malformed step. */
function checkSteps(steps: readonly BudgetStep[]): Map<string, BudgetStep> {
  const byId = new Map<string, BudgetStep>();
  for (const step of steps) {
    if (byId.has(step.id)) throw new RangeError(`step '${step.id}' is listed twice`);
    byId.set(step.id, step);
    if (step.options.length === 0) throw new RangeError(`step '${step.id}' has no option`);
    const times = step.times ?? 1;
    if (!Number.isInteger(times) || times < 0)
      throw new RangeError(`times of step '${step.id}' must be an integer >= 0, got ${times}`);
    const concurrency = step.concurrency ?? DEFAULT_MAX_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency of step '${step.id}' must be an integer >= 1, got ${concurrency}`);
    for (const option of step.options) checkOption(step, option);
  }
  return byId;
}

function checkOption(step: BudgetStep, option: StepOption): void {
  for (const [name, value] of [
    ['expectedCostUsd', option.expectedCostUsd],
    ['expectedMs', option.expectedMs],
  ] as const) {
    if (!(value >= 0 && Number.isFinite(value)))
      throw new RangeError(
        `${name} of '${option.service}' for step '${step.id}' must be a finite number >= 0, got ${value}`,
      );
  }
}

function checkMargin(margin: number): void {
  if (!(margin >= 0 && Number.isFinite(margin)))
    throw new RangeError(`margin must be a finite number >= 0, got ${margin}`);
}

const usd = (value: number): string => `$${Number(value.toFixed(4))}`;
const seconds = (ms: number): string => `${Number((ms / 1_000).toFixed(3))} s`;
const percent = (margin: number): string => `${Number((margin * 100).toFixed(1))}%`;
