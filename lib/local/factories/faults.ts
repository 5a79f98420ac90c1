import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import type { FieldIssue } from '../../core/errors.ts';
import { mulberry32 } from '../../core/random.ts';
import { parseInput } from '../../core/validation.ts';
import type { AcceptedCall, DeliveryPolicy, ExecuteRequest, Outcome } from './contract.ts';

/** No injected wait is longer than this, so a typo cannot park a call for days. */
const MAX_WAIT_MS = 3_600_000;

const waitMs = z.number().min(0).max(MAX_WAIT_MS);

/** How long a factory takes before it answers. */
export const latencySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), ms: waitMs }).strict(),
  z
    .object({ kind: z.literal('uniform'), min: waitMs, max: waitMs })
    .strict()
    .refine((d) => d.max >= d.min, { message: 'must be at least min', path: ['max'] }),
  z
    .object({ kind: z.literal('lognormal'), medianMs: waitMs.positive(), sigma: z.number().min(0).max(4) })
    .strict(),
]);
export type LatencyDistribution = z.output<typeof latencySchema>;

/** Fault and latency injection for one factory; every rate is a probability per call. */
export const faultOptionsSchema = z
  .object({
    /** Share of calls answered 500. */
    failureRate: z.number().min(0).max(1).default(0),
    /** Share of calls held for `hangMs` (longer than any caller waits), then answered 504. */
    timeoutRate: z.number().min(0).max(1).default(0),
    latencyMs: latencySchema.default({ kind: 'fixed', ms: 0 }),
    hangMs: z.number().int().min(0).max(MAX_WAIT_MS).default(60_000),
    /** Seed of the random source: the same seed draws the same faults for the same call sequence. */
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
    /** Answer every call 202 and post the result to its `callbackUrl`. */
    async: z.boolean().default(false),
  })
  .strict();
export type FaultOptions = z.input<typeof faultOptionsSchema>;

/** One latency in milliseconds from a distribution, drawing two uniforms from `random`. */
export function sampleLatency(distribution: LatencyDistribution, random: () => number): number {
  const u1 = random();
  const u2 = random();
  switch (distribution.kind) {
    case 'fixed':
      return distribution.ms;
    case 'uniform':
      return distribution.min + u1 * (distribution.max - distribution.min);
    case 'lognormal': {
      // Box-Muller; 1 - u keeps the logarithm away from zero.
      const normal = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
      return Math.min(MAX_WAIT_MS, distribution.medianMs * Math.exp(distribution.sigma * normal));
    }
  }
}

/** What the injector decided for one call. */
export interface CallPlan {
  fail: boolean;
  hang: boolean;
  latencyMs: number;
}

/**
 * Plans calls in arrival order. Every call draws the same number of values, whatever was decided,
 * so the n-th call of a run is planned the same way under the same seed.
 */
export function planCalls(
  options: z.output<typeof faultOptionsSchema>,
  random: () => number,
): () => CallPlan {
  return () => {
    const fail = random() < options.failureRate;
    const hang = random() < options.timeoutRate;
    const latencyMs = sampleLatency(options.latencyMs, random);
    return { fail, hang: !fail && hang, latencyMs };
  };
}

/** Whether a call is answered by callback: the factory is asynchronous, or the call asks for it. */
export function wantsAsync(asyncFactory: boolean, request: ExecuteRequest): boolean {
  return asyncFactory || request.parameters.async === true;
}

/** What the injector did so far, beside the server's own counters. */
export interface FaultStats {
  seed: number;
  injectedFailures: number;
  injectedTimeouts: number;
  asyncJobs: number;
  callbacksDelivered: number;
  callbacksFailed: number;
}

/**
 * A delivery policy that injects latency, failures and timeouts, and answers asynchronously when
 * asked: `202 {status: 'accepted', jobId}` at once, then `POST callbackUrl` with
 * `{taskToken, status: 'succeeded', output}` or `{taskToken, status: 'failed', error}`.
 * @throws ValidationError naming the option when an option is invalid.
 */
export function injectFaults(input: FaultOptions = {}): DeliveryPolicy & { stats(): FaultStats } {
  const options = parseInput(faultOptionsSchema, input, 'faults');
  const seed = options.seed ?? randomInt(0, 0xffff_ffff);
  const nextPlan = planCalls(options, mulberry32(seed));
  const counts = {
    injectedFailures: 0,
    injectedTimeouts: 0,
    asyncJobs: 0,
    callbacksDelivered: 0,
    callbacksFailed: 0,
  };

  /** Waits as planned, then fails, holds, or runs the action; gives up when `signal` aborts. */
  const settle = async (call: AcceptedCall, signal: AbortSignal): Promise<[number, Outcome]> => {
    const plan = nextPlan();
    const gone: Outcome = { status: 'failed', error: 'abandoned: the caller or the factory went away' };
    if (!(await pause(plan.latencyMs, signal))) return [503, gone];
    if (plan.fail) {
      counts.injectedFailures += 1;
      return [500, { status: 'failed', error: `injected failure (failureRate ${options.failureRate})` }];
    }
    if (plan.hang) {
      counts.injectedTimeouts += 1;
      if (!(await pause(options.hangMs, signal))) return [503, gone];
      return [504, { status: 'failed', error: `injected timeout: held for ${options.hangMs} ms` }];
    }
    const { httpStatus, outcome } = await call.run(signal);
    return [httpStatus, outcome];
  };

  return {
    stats: () => ({ seed, ...counts }),
    check(request) {
      if (request.parameters.async !== undefined && typeof request.parameters.async !== 'boolean')
        return { field: 'parameters.async', message: 'must be a boolean' };
      if (!wantsAsync(options.async, request)) return undefined;
      return missing(request, 'callbackUrl') ?? missing(request, 'taskToken');
    },
    async deliver(call, reply) {
      if (!wantsAsync(options.async, call.request)) {
        const [status, outcome] = await settle(call, AbortSignal.any([call.closing, call.callerGone]));
        reply(status, outcome);
        return outcome;
      }
      counts.asyncJobs += 1;
      reply(202, { status: 'accepted', jobId: randomUUID() });
      // The caller has its answer; from here on only closing the factory stops the job.
      const [, outcome] = await settle(call, call.closing);
      const { callbackUrl, taskToken } = call.request as Required<ExecuteRequest>;
      const delivered = await postCallback(callbackUrl, { taskToken, ...outcome }, call.closing);
      if (delivered) counts.callbacksDelivered += 1;
      else counts.callbacksFailed += 1;
      return outcome;
    },
  };
}

function missing(request: ExecuteRequest, field: 'callbackUrl' | 'taskToken'): FieldIssue | undefined {
  return request[field] === undefined
    ? { field, message: 'is required when the call is asynchronous (the result is posted back with it)' }
    : undefined;
}

/**
 * Waits `ms` (at least: timers may fire a little early, and a stated latency is a floor).
 * Resolves false when `signal` aborts first.
 */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) {
    try {
      await sleep(Math.ceil(left), undefined, { signal });
    } catch {
      return false;
    }
  }
  return !signal.aborted;
}

/** Posts a callback, retrying network errors, 5xx and 429 twice with backoff; true once accepted. */
async function postCallback(url: string, body: unknown, signal: AbortSignal): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0 && !(await pause(100 * 2 ** attempt, signal))) return false;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
      });
      await response.arrayBuffer();
      if (response.ok) return true;
      if (response.status < 500 && response.status !== 429) return false;
    } catch {
      if (signal.aborted) return false;
    }
  }
  return false;
}

export { mulberry32 };
