import * as z from 'zod';
import { identifier } from '../names.ts';
import { type RetryPolicy, retryPolicySchema } from '../retry-policy.ts';
import { routingRuleSchema } from './content-rules.ts';
import type { RoutingTuning } from './strategy.ts';
import { strategyName } from './strategy-name.ts';

/**
 * How many calls a service may take: at most `maxInFlight` at once and `callsPerMinute` in one
 * clock minute, counted across every worker. A service at a limit is left out of routing until a
 * slot frees up.
 */
export const flowLimitsSchema = z
  .object({
    maxInFlight: z.number().int().min(1).max(100_000).optional(),
    callsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .refine((l) => l.maxInFlight !== undefined || l.callsPerMinute !== undefined, {
    message: 'must set maxInFlight, callsPerMinute or both',
  });
export type FlowLimits = z.output<typeof flowLimitsSchema>;

/**
 * Everything a person can steer about routing, stored as numbered versions (see `PolicyStore`):
 * - `defaultStrategy` (and `strategyByTaskType`): for tasks that do not name one;
 * - `ejected`: services routing leaves out, for every task type or for the ones listed;
 * - `rules` and `defaultTarget`: content routing (a rule or the default names a service or a factory type);
 * - `retry`: the retry policy of a call, the service's own first, else its task type's, else `default`;
 * - `exploration`: whether learned routing explores (Thompson draws) and uses task features;
 * - `costWeight` (utility lost per USD a call is expected to cost) and `costMinSuccess` (the
 *   success the `cost` strategy asks of the cheapest service);
 * - `limits`: flow control per service.
 */
export const routingPolicySchema = z
  .object({
    defaultStrategy: strategyName.default('capability'),
    strategyByTaskType: z.record(identifier, strategyName).default({}),
    ejected: z
      .record(
        identifier,
        z
          .object({
            /** Only for these task types; every type when absent. */
            taskTypes: z.array(identifier).min(1).optional(),
            reason: z.string().max(500).optional(),
          })
          .strict(),
      )
      .default({}),
    rules: z.array(routingRuleSchema).max(500).default([]),
    defaultTarget: identifier.optional(),
    retry: z
      .object({
        default: retryPolicySchema.prefault({}),
        byTaskType: z.record(identifier, retryPolicySchema).default({}),
        byService: z.record(identifier, retryPolicySchema).default({}),
      })
      .strict()
      .prefault({}),
    exploration: z
      .object({ enabled: z.boolean().default(true), contextual: z.boolean().default(true) })
      .strict()
      .prefault({}),
    costWeight: z.number().min(0).max(100_000).default(0),
    costMinSuccess: z.number().min(0).max(1).default(0.9),
    limits: z.record(identifier, flowLimitsSchema).default({}),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const ids = new Set<string>();
    policy.rules.forEach((rule, index) => {
      if (ids.has(rule.id))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'id'],
          message: `duplicate rule id '${rule.id}'`,
        });
      ids.add(rule.id);
    });
  });
export type RoutingPolicy = z.output<typeof routingPolicySchema>;
export type RoutingPolicyInput = z.input<typeof routingPolicySchema>;

/** A policy as routing uses it: its version (0 is the built-in default, never stored). */
export interface ActivePolicy {
  version: number;
  policy: RoutingPolicy;
}

/** The strategy for a task that names none. */
export function strategyFor(policy: RoutingPolicy, taskType: string): RoutingPolicy['defaultStrategy'] {
  return policy.strategyByTaskType[taskType] ?? policy.defaultStrategy;
}

/** Whether the policy leaves `service` out of routing for tasks of `taskType`. */
export function isEjected(policy: RoutingPolicy, service: string, taskType: string): boolean {
  const ejected = policy.ejected[service];
  return ejected !== undefined && (ejected.taskTypes === undefined || ejected.taskTypes.includes(taskType));
}

/** The retry policy of a call to `service` for a task of `taskType` (see {@link routingPolicySchema}). */
export function retryPolicyFor(policy: RoutingPolicy, taskType: string, service: string): RetryPolicy {
  return policy.retry.byService[service] ?? policy.retry.byTaskType[taskType] ?? policy.retry.default;
}

/** What the learned and cost strategies read from a policy. */
export function tuningOf(policy: RoutingPolicy): RoutingTuning {
  return {
    costWeight: policy.costWeight,
    minSuccess: policy.costMinSuccess,
    contextual: policy.exploration.contextual,
    explore: policy.exploration.enabled,
  };
}
