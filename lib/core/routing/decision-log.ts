import * as z from 'zod';
import { instant, type ListWindow, listWindow, MAX_LIST_LIMIT } from '../list-window.ts';
import { identifier } from '../names.ts';
import { costOfCalls, type TaskRecord } from '../task-record.ts';
import type { StepRecord } from '../workflow/workflow-records.ts';
import type { RoutingDecision } from './router.ts';

/** Runs whose steps one `GET /decisions` reads at most (one query each). */
export const MAX_RUNS_READ = 25;
/** Tasks one `GET /decisions` reads at most. */
export const MAX_TASKS_READ = 500;

export const decisionQuerySchema = z
  .object({
    type: identifier.optional(),
    service: identifier.optional(),
    since: instant.optional(),
    until: instant.optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_LIST_LIMIT))
      .optional(),
  })
  .strict();
export type DecisionQuery = z.output<typeof decisionQuerySchema>;

/** Why a task or a workflow step went where it went: a routing decision as a person reads it. */
export interface DecisionExplanation {
  source: 'task' | 'step';
  taskId: string;
  executionId?: string | undefined;
  stepId?: string | undefined;
  taskType: string;
  decidedAt: string;
  strategy: string;
  policyVersion?: number | undefined;
  /** The first choice, and the service the last decision sent the work to. */
  chosen: string;
  service: string;
  /** Services tried and failed, or passed over, before `service`. */
  tried: string[];
  failover: boolean;
  reason: string;
  rule?: { id: string; name: string; priority: number } | undefined;
  candidates: Array<{ name: string; score?: number | undefined; probability?: number | undefined }>;
  /** The task's or the step's status. */
  status: string;
  costUsd?: number | undefined;
}

export interface DecisionLogPorts {
  /** Tasks created in the window, newest first (finished or not), at most `limit`. */
  tasks(window: Pick<ListWindow, 'since' | 'until'>, limit: number, type?: string): Promise<TaskRecord[]>;
  /** Runs created in the window, newest first, at most `limit`. */
  runs(window: Pick<ListWindow, 'since' | 'until'>, limit: number): Promise<Array<{ executionName: string }>>;
  steps(executionName: string): Promise<StepRecord[]>;
  now(): Date;
}

/**
 * The explanation records of routing, read from what tasks and workflow steps keep (their route,
 * after any failover, with the first choice logged): nothing is written to list them. Bounded
 * reads: the newest {@link MAX_TASKS_READ} tasks and {@link MAX_RUNS_READ} runs of the window.
 */
export class DecisionLog {
  readonly #ports: DecisionLogPorts;

  constructor(ports: DecisionLogPorts) {
    this.#ports = ports;
  }

  /** `query` as `decisionQuerySchema` reads a query string. */
  async list(q: DecisionQuery): Promise<{ decisions: DecisionExplanation[] }> {
    const { since, until } = listWindow({ since: q.since, until: q.until }, this.#ports.now());
    const window = { since, until };
    const [tasks, runs] = await Promise.all([
      this.#ports.tasks(window, MAX_TASKS_READ, q.type),
      this.#ports.runs(window, MAX_RUNS_READ),
    ]);
    const stepLists = await Promise.all(
      runs.map(async (run) => ({ run, steps: await this.#ports.steps(run.executionName) })),
    );
    const all = [
      ...tasks.flatMap((t) => explainTask(t) ?? []),
      ...stepLists.flatMap(({ run, steps }) => steps.flatMap((s) => explainStep(run.executionName, s) ?? [])),
    ];
    const decisions = all
      .filter((d) => q.type === undefined || d.taskType === q.type)
      .filter((d) => q.service === undefined || d.service === q.service || d.tried.includes(q.service))
      .filter((d) => d.decidedAt >= since && d.decidedAt < until)
      .sort((a, b) => b.decidedAt.localeCompare(a.decidedAt))
      .slice(0, q.limit ?? 25);
    return { decisions };
  }
}

function explain(route: RoutingDecision): Omit<DecisionExplanation, 'source' | 'taskId' | 'status'> {
  return {
    taskType: route.taskType,
    decidedAt: route.decidedAt,
    strategy: route.strategy,
    policyVersion: route.policyVersion,
    chosen: route.logged?.chosen ?? route.tried[0] ?? route.primary,
    service: route.primary,
    tried: route.tried,
    failover: route.tried.length > 0,
    reason: route.reason,
    rule: route.rule,
    candidates: route.candidates.map(({ name, score, probability }) => ({ name, score, probability })),
  };
}

export function explainTask(record: TaskRecord): DecisionExplanation | undefined {
  if (!record.route) return undefined;
  const costUsd = costOfCalls(record.attempts);
  return {
    source: 'task',
    taskId: record.taskId,
    ...explain(record.route),
    status: record.status,
    ...(costUsd === undefined ? {} : { costUsd }),
  };
}

export function explainStep(executionId: string, step: StepRecord): DecisionExplanation | undefined {
  if (!step.route) return undefined;
  return {
    source: 'step',
    taskId: step.route.taskId,
    executionId,
    stepId: step.stepId,
    ...explain(step.route),
    status: step.status,
    ...(step.costUsd === undefined ? {} : { costUsd: step.costUsd }),
  };
}
