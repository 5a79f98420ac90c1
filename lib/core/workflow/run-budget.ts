import { VobeeError } from '../errors.ts';
import { eligibleServices, isCapable, type Service } from '../service.ts';
import { meanCost, meanMs, type ServiceStats } from '../statistics.ts';
import {
  type BudgetRefusal,
  type BudgetStep,
  checkBudgetAtStart,
  DEFAULT_BUDGET_MARGIN,
  type RunBudget,
} from './budget.ts';
import { stepDag, type WorkflowTemplate } from './template.ts';

/**
 * A run's budget as it travels with every step of the run (in the execution input, so a step
 * reads nothing more to know it): the limits, and the steps the planner reasons about.
 */
export interface RunBudgetPlan extends RunBudget {
  /** When the run started: the deadline counts from here. */
  startedAt: string;
  steps: Array<{
    id: string;
    dependsOn: string[];
    action: string;
    factoryType: string;
    /** A fan-out over a literal list: how many items. */
    times?: number | undefined;
  }>;
}

/** The run cannot keep its budget: nothing more is spent, and the run fails. */
export class BudgetExceeded extends VobeeError {
  constructor(readonly refusal: Pick<BudgetRefusal, 'cause' | 'figures' | 'limit'>) {
    super(`BudgetExceeded: ${refusal.cause}`);
    this.name = 'BudgetExceeded';
  }
}

/** What a run's budget plan holds of its template. */
export function budgetPlan(
  template: Pick<WorkflowTemplate, 'steps'>,
  budget: RunBudget,
  startedAt: string,
): RunBudgetPlan {
  const dag = stepDag(template);
  return {
    ...budget,
    startedAt,
    steps: template.steps.map((step) => ({
      id: step.step_id,
      dependsOn: [...(dag.get(step.step_id) ?? [])],
      action: step.action,
      factoryType: step.factory_type,
      ...(Array.isArray(step.for_each?.items) ? { times: step.for_each.items.length } : {}),
    })),
  };
}

/**
 * The planner's view of a run's steps: for each, the services that can do it now (enabled, not
 * unhealthy), each expected to cost its learned mean (else its declared `costPerCall`, else
 * nothing) and to take its learned mean latency (else nothing: a service never seen is not
 * assumed slow). A step no service can do gets one free option, so that the budget check leaves
 * the refusal to routing, which says why.
 */
export function budgetSteps(
  plan: RunBudgetPlan,
  services: readonly Service[],
  statsFor: (taskType: string) => readonly ServiceStats[],
  now: Date,
): BudgetStep[] {
  return plan.steps.map((step) => {
    const task = { type: step.action, action: step.action, factoryType: step.factoryType };
    const stats = new Map(statsFor(step.action).map((s) => [s.service, s]));
    const options = eligibleServices(services, (s) => isCapable(s, task), now).map((service) => {
      const learned = stats.get(service.name);
      return {
        service: service.name,
        expectedCostUsd: (learned && meanCost(learned)) ?? service.costPerCall ?? 0,
        expectedMs: (learned && meanMs(learned)) ?? 0,
      };
    });
    return {
      id: step.id,
      dependsOn: step.dependsOn,
      options: options.length > 0 ? options : [{ service: '(none)', expectedCostUsd: 0, expectedMs: 0 }],
      ...(step.times === undefined ? {} : { times: step.times }),
    };
  });
}

/** {@link budgetSteps} on the registry and statistics as `ports` read them (each action's once). */
export async function readBudgetSteps(
  plan: RunBudgetPlan,
  ports: {
    services(): Promise<Service[]>;
    statsFor(taskType: string): Promise<readonly ServiceStats[]>;
    now(): Date;
  },
): Promise<BudgetStep[]> {
  const actions = [...new Set(plan.steps.map((s) => s.action))];
  const [services, learned] = await Promise.all([
    ports.services(),
    Promise.all(actions.map((action) => ports.statsFor(action))),
  ]);
  const byAction = new Map(actions.map((action, i) => [action, learned[i] ?? []]));
  return budgetSteps(plan, services, (type) => byAction.get(type) ?? [], ports.now());
}

/** The start check (see `checkBudgetAtStart`): the refusal, or nothing when the budget can be kept. */
export function startRefusal(steps: readonly BudgetStep[], budget: RunBudget): BudgetRefusal | undefined {
  const check = checkBudgetAtStart(budget, steps, DEFAULT_BUDGET_MARGIN);
  return check.ok ? undefined : check;
}
