import * as z from 'zod';
import { ValidationError } from '../errors.ts';
import { instant, type ListWindow } from '../list-window.ts';
import type { Service } from '../service.ts';
import { costOfCalls, type TaskRecord } from '../task-record.ts';
import { parseInput } from '../validation.ts';
import {
  ESTIMATORS,
  type Estimator,
  type LoggedDecision,
  offPolicyEstimate,
  type ReplayEstimate,
} from './off-policy.ts';
import type { ActivePolicy, RoutingPolicy } from './policy.ts';
import { routingPolicySchema } from './policy.ts';
import type { Router } from './router.ts';

/** Replay looks at no more finished tasks than this, newest first. */
export const MAX_REPLAY_DECISIONS = 5_000;
/** Without `since`, replay looks back this far. */
export const DEFAULT_REPLAY_DAYS = 7;

/** `POST /routing/replay`: a policy (inline or a stored version) and the window of decisions. */
export const replayRequestSchema = z
  .object({
    policy: routingPolicySchema.optional(),
    version: z.number().int().min(0).optional(),
    since: instant.optional(),
    until: instant.optional(),
    estimator: z.enum(ESTIMATORS).default('dr'),
  })
  .strict()
  .refine((r) => (r.policy === undefined) !== (r.version === undefined), {
    message: 'give either policy or version',
    path: ['policy'],
  });

export interface ReplayReport {
  /** What was evaluated: a stored version, or the policy given inline. */
  target: { version?: number | undefined; inline: boolean };
  window: { since: string; until: string };
  /** Finished tasks read, and those whose first decision was logged with its probability. */
  tasksRead: number;
  /** True when the window held more finished tasks than replay reads. */
  truncated: boolean;
  estimator: Estimator;
  estimate: ReplayEstimate;
  /** The success rate each estimator gives, for comparison. */
  byEstimator: Record<Estimator, number | null>;
}

export interface ReplayPorts {
  /** Finished tasks created in the window, newest first, at most `limit`. */
  finishedTasks(window: Pick<ListWindow, 'since' | 'until'>, limit: number): Promise<TaskRecord[]>;
  /** A stored version, or the built-in one for 0. */
  policyVersion(version: number): Promise<{ version: number; policy: RoutingPolicy }>;
  services(): Promise<Service[]>;
  router: Pick<Router, 'choiceProbabilities'>;
  now(): Date;
}

/**
 * Off-policy evaluation of a routing policy on recorded decisions: each finished task's first
 * decision kept its candidates, its choice and the probability the policy in force gave that
 * choice (`RoutingDecision.logged`); the policy under evaluation gives its own probabilities on
 * the same candidates (with today's statistics and registry), and the estimators of
 * `off-policy.ts` weigh the recorded outcomes by the ratio. The outcome of a decision is how its
 * chosen service did: success if a call to it succeeded, its latency and its cost.
 */
export class Replay {
  readonly #ports: ReplayPorts;

  constructor(ports: ReplayPorts) {
    this.#ports = ports;
  }

  async run(input: unknown): Promise<ReplayReport> {
    const request = parseInput(replayRequestSchema, input, 'body');
    const until = request.until === undefined ? this.#ports.now() : new Date(request.until);
    const since =
      request.since === undefined
        ? new Date(until.getTime() - DEFAULT_REPLAY_DAYS * 86_400_000)
        : new Date(request.since);
    if (since > until) {
      throw new ValidationError([
        { field: 'body.since', message: `is after until (${until.toISOString()})` },
      ]);
    }
    const window = { since: since.toISOString(), until: until.toISOString() };
    const target: ActivePolicy =
      request.version === undefined
        ? { version: -1, policy: request.policy as RoutingPolicy }
        : await this.#ports.policyVersion(request.version);
    const [records, services] = await Promise.all([
      this.#ports.finishedTasks(window, MAX_REPLAY_DECISIONS + 1),
      this.#ports.services(),
    ]);
    const truncated = records.length > MAX_REPLAY_DECISIONS;
    const kept = records.slice(0, MAX_REPLAY_DECISIONS);
    const byName = new Map(services.map((s) => [s.name, s]));
    const logged: Array<{ decision: LoggedDecision; record: TaskRecord }> = [];
    for (const record of kept) {
      const decision = loggedDecision(record);
      if (decision) logged.push({ decision, record });
    }
    // The policy's probabilities for each logged decision, computed once (the policy compiled once).
    const probabilitiesOf = this.#ports.router.choiceProbabilities(target);
    const probabilities = new Map<LoggedDecision, Record<string, number>>();
    for (const { decision, record } of logged) {
      const candidates = decision.candidates
        .map((name) => byName.get(name))
        .filter((s): s is Service => s !== undefined);
      probabilities.set(decision, await probabilitiesOf(record.task, candidates, record.strategy));
    }
    const decisions = logged.map((l) => l.decision);
    const targetOf = (d: LoggedDecision) => probabilities.get(d) ?? {};
    const estimates = Object.fromEntries(
      ESTIMATORS.map((e) => [e, offPolicyEstimate(decisions, targetOf, { estimator: e })]),
    ) as Record<Estimator, ReplayEstimate>;
    const estimate = estimates[request.estimator];
    const byEstimator = Object.fromEntries(
      ESTIMATORS.map((e) => [e, estimates[e].successRate?.estimate ?? null]),
    ) as Record<Estimator, number | null>;
    return {
      target: request.version === undefined ? { inline: true } : { version: target.version, inline: false },
      window,
      tasksRead: kept.length,
      truncated,
      estimator: request.estimator,
      estimate,
      byEstimator,
    };
  }
}

/**
 * What off-policy evaluation reads of a finished task: its first decision as logged, and how the
 * chosen service did. Undefined for a task routed before decisions were logged, or never routed.
 */
export function loggedDecision(record: TaskRecord): LoggedDecision | undefined {
  const logged = record.route?.logged;
  if (!logged || record.completedAt === undefined) return undefined;
  const calls = record.attempts.filter((a) => a.service === logged.chosen && a.outcome !== 'waiting');
  if (calls.length === 0) return undefined;
  const succeeded = calls.find((a) => a.outcome === 'succeeded');
  return {
    taskType: record.task.type,
    candidates: logged.candidates,
    chosen: logged.chosen,
    propensity: logged.propensity,
    outcome: {
      success: succeeded !== undefined,
      latencyMs: (succeeded ?? (calls.at(-1) as (typeof calls)[number])).latencyMs,
      costUsd: costOfCalls(calls),
    },
  };
}
