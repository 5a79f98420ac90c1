import * as z from 'zod';
import { parseInput } from './validation.ts';

/**
 * How a failed call is retried. Exponential: base x factor^(n-1) (1, 2, 4, 8 s by default).
 * Linear: base x n (5, 10, 15 s by default). `timeoutSeconds` bounds one attempt.
 */
export const retryPolicySchema = z
  .object({
    backoff: z.enum(['exponential', 'linear']).default('exponential'),
    maxRetries: z.number().int().min(0).max(20).default(3),
    timeoutSeconds: z.number().positive().max(86_400).default(30),
    baseDelaySeconds: z.number().positive().max(3_600).optional(),
    factor: z.number().min(1).max(10).default(2),
    maxDelaySeconds: z.number().positive().max(86_400).optional(),
    /** Full jitter in [0, 1]: the delay is drawn from [(1 - jitter) x d, d]. */
    jitter: z.number().min(0).max(1).default(0),
  })
  .strict();
export type RetryPolicy = z.output<typeof retryPolicySchema>;
export type RetryPolicyInput = z.input<typeof retryPolicySchema>;

const DEFAULT_BASE_SECONDS = { exponential: 1, linear: 5 } as const;

/** Validates a policy and fills its defaults. */
export function retryPolicy(input: RetryPolicyInput = {}): RetryPolicy {
  return parseInput(retryPolicySchema, input, 'retryPolicy');
}

/**
 * Delay in seconds before retry number `attempt` (1 for the first retry), or `undefined` once
 * `maxRetries` is spent. `random` is injected so the result is reproducible in tests.
 */
export function retryDelaySeconds(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number | undefined {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  }
  if (attempt > policy.maxRetries) return undefined;
  const base = policy.baseDelaySeconds ?? DEFAULT_BASE_SECONDS[policy.backoff];
  const raw = policy.backoff === 'exponential' ? base * policy.factor ** (attempt - 1) : base * attempt;
  const capped = policy.maxDelaySeconds === undefined ? raw : Math.min(raw, policy.maxDelaySeconds);
  return capped * (1 - policy.jitter * random());
}

/**
 * Delay in seconds before retry number `attempt` when the factory said when to come back
 * (`Retry-After`): the factory's delay, without jitter, never more than the policy's
 * `maxDelaySeconds` when set; `undefined` once `maxRetries` is spent, as for `retryDelaySeconds`.
 * The caller still checks that the delay fits in what is left of the task's budget.
 */
export function retryAfterDelaySeconds(
  policy: RetryPolicy,
  attempt: number,
  retryAfterSeconds: number,
): number | undefined {
  if (retryDelaySeconds(policy, attempt, () => 0) === undefined) return undefined;
  const asked = Math.max(0, retryAfterSeconds);
  return policy.maxDelaySeconds === undefined ? asked : Math.min(asked, policy.maxDelaySeconds);
}

/** All delays of a policy, without jitter: what a person reads in a routing decision. */
export function retrySchedule(policy: RetryPolicy): number[] {
  const noJitter = { ...policy, jitter: 0 };
  return Array.from({ length: policy.maxRetries }, (_, i) => retryDelaySeconds(noJitter, i + 1) as number);
}
