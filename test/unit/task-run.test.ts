import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../lib/core/errors.ts';
import type { FactoryCaller, FactoryCallResult, FactoryRequest } from '../../lib/core/factory-call.ts';
import { PassiveHealth } from '../../lib/core/passive-health.ts';
import type { FailoverResult, RoutingDecision } from '../../lib/core/routing/router.ts';
import type { Service } from '../../lib/core/service.ts';
import { type CallObservation, latencyQuantileMs, type ServiceStats } from '../../lib/core/statistics.ts';
import type { Task } from '../../lib/core/task.ts';
import type { CallAttempt } from '../../lib/core/task-record.ts';
import { type CallbackOffers, MIN_CALL_MS, TaskRun } from '../../lib/core/task-run.ts';
import { makeDecision, makeRoute, makeService, makeStats, makeTask, manualClock } from './support.ts';

const START = '2026-01-15T10:00:00.000Z';

/** An earlier call to svc-a that failed with a 503. */
const EARLIER_503: CallAttempt = {
  service: 'svc-a',
  attempt: 1,
  outcome: 'failed',
  latencyMs: 50,
  error: { kind: 'error', message: 'HTTP 503' },
  at: START,
};

const ok = (output: unknown, latencyMs = 50): FactoryCallResult => ({ ok: true, output, latencyMs });
const accepted = (latencyMs = 40): FactoryCallResult => ({ ok: true, accepted: true, latencyMs });
const fail = (
  kind: 'timeout' | 'error' | 'rejected',
  message: string,
  retryable: boolean,
  latencyMs = 50,
): FactoryCallResult => ({ ok: false, error: { kind, message }, retryable, latencyMs });

interface Options {
  route?: RoutingDecision | undefined;
  attempts?: CallAttempt[];
  task?: Task;
  budgetSeconds?: number;
  /** Time already spent of the budget when the run starts. */
  elapsedMs?: number;
  stats?: ServiceStats[];
  services?: Service[];
  callTimeoutMs?: number;
  /** What the factory answers, call after call; each call takes its `latencyMs` on the clock. */
  script?: FactoryCallResult[];
  context?: (id: string) => Promise<Record<string, unknown>>;
  health?: PassiveHealth;
  /** Runs inside each factory call. */
  during?: () => void;
}

function harness(options: Options = {}) {
  const clock = manualClock(START);
  clock.advance(options.elapsedMs ?? 0);
  const script = [...(options.script ?? [])];
  const calls: Array<{ endpoint: string; request: FactoryRequest; timeoutMs: number }> = [];
  const factories: FactoryCaller = {
    async execute(endpoint, request, timeoutMs) {
      calls.push({ endpoint, request, timeoutMs });
      options.during?.();
      const result = script.shift();
      if (!result) throw new Error(`call ${calls.length} to ${endpoint} was not scripted`);
      clock.advance(result.latencyMs);
      return result;
    },
  };
  // Fails over to the next fallback in order; exhausted when none is left.
  const failovers: RoutingDecision[] = [];
  const router = {
    async failover(decision: RoutingDecision): Promise<FailoverResult> {
      failovers.push(decision);
      const tried = [...decision.tried, decision.primary];
      const [next, ...rest] = decision.fallbacks;
      if (next === undefined) return { exhausted: true, tried, reason: `no fallback left after ${tried}` };
      return {
        exhausted: false,
        decision: { ...decision, primary: next, endpoint: `http://${next}:8080`, fallbacks: rest, tried },
      };
    },
  };
  const observed: CallObservation[] = [];
  const health = options.health ?? new PassiveHealth({ failureThreshold: 5, cooldownSeconds: 30 }, clock.now);
  const task = options.task ?? makeTask();
  const run = new TaskRun(
    {
      router,
      factories,
      health,
      observe: (call) => observed.push(call),
      context: options.context ?? (async () => ({})),
      callTimeoutMs: options.callTimeoutMs ?? 60_000,
      now: clock.now,
      random: () => 0.5,
    },
    {
      task,
      decision: makeDecision(options.budgetSeconds ?? 30, {
        taskId: task.id,
        taskType: task.type,
        priority: task.priority,
      }),
      route: 'route' in options ? options.route : makeRoute('svc-a'),
      attempts: options.attempts ?? [],
      startedAt: START,
      services: new Map((options.services ?? []).map((s) => [s.name, s])),
      stats: options.stats ?? [],
    },
  );
  return { run, clock, calls, failovers, observed, health };
}

/** Each attempt as [service, outcome]. */
const outcomes = (run: TaskRun) => run.attempts.map((a) => [a.service, a.outcome]);

const offer: CallbackOffers = (attempt, service) => ({
  url: `https://api.example.com/callbacks/tok-${service}-${attempt}`,
  token: `tok-${service}-${attempt}`,
  tokenHash: `hash-${service}-${attempt}`,
});

describe('TaskRun: the timeout of a call', () => {
  it('is at most callTimeoutMs', async () => {
    const h = harness({ callTimeoutMs: 5_000, script: [ok('done')] });
    await h.run.proceed({ retries: true });
    expect(h.calls.map((c) => c.timeoutMs)).toEqual([5_000]);
  });

  it("is at most the retry policy's timeoutSeconds", async () => {
    const h = harness({ route: makeRoute('svc-a', { policy: { timeoutSeconds: 2 } }), script: [ok('done')] });
    await h.run.proceed({ retries: true });
    expect(h.calls.map((c) => c.timeoutMs)).toEqual([2_000]);
  });

  it('is at most the remaining budget when no fallback has a record', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      budgetSeconds: 10,
      elapsedMs: 3_000,
      script: [ok('done')],
    });
    await h.run.proceed({ retries: true });
    expect(h.calls.map((c) => c.timeoutMs)).toEqual([7_000]);
  });

  it("leaves room for the best fallback's p95 latency", async () => {
    const slow = makeStats('svc-c', 'generic', { successes: 20, eachMs: 3_000 });
    const fast = makeStats('svc-b', 'generic', { successes: 20, eachMs: 1_000 });
    const fastP95 = latencyQuantileMs(fast, 0.95) as number;
    // The fast fallback's p95 is below half of the 8 s left, so it is the reserve.
    expect(fastP95).toBeLessThan(4_000);
    expect(latencyQuantileMs(slow, 0.95)).toBeGreaterThan(fastP95);
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-c', 'svc-d', 'svc-b'] }),
      budgetSeconds: 10,
      elapsedMs: 2_000,
      stats: [slow, fast, makeStats('svc-a', 'generic', { successes: 20, eachMs: 100 })],
      script: [ok('done')],
    });
    await h.run.proceed({ retries: true });
    const [call] = h.calls;
    expect(call?.timeoutMs).toBeLessThanOrEqual(8_000 - fastP95);
    expect(call?.timeoutMs).toBeGreaterThan(8_000 - fastP95 - 1);
  });

  it('never reserves more than half of the remaining budget', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      budgetSeconds: 10,
      elapsedMs: 2_000,
      stats: [makeStats('svc-b', 'generic', { successes: 20, eachMs: 20_000 })],
      script: [ok('done')],
    });
    await h.run.proceed({ retries: true });
    expect(h.calls.map((c) => c.timeoutMs)).toEqual([4_000]);
  });

  it('fails with kind deadline, without calling, when less than MIN_CALL_MS is left', async () => {
    const h = harness({ budgetSeconds: 10, elapsedMs: 10_000 - (MIN_CALL_MS - 1), script: [ok('done')] });
    const outcome = await h.run.proceed({ retries: true });
    expect(outcome).toMatchObject({ kind: 'failed', error: { kind: 'deadline' } });
    expect(h.calls).toEqual([]);
    expect(h.observed).toEqual([]);
  });

  it('still calls with MIN_CALL_MS left', async () => {
    const h = harness({ budgetSeconds: 10, elapsedMs: 10_000 - MIN_CALL_MS, script: [ok('done')] });
    const outcome = await h.run.proceed({ retries: true });
    expect(outcome).toMatchObject({ kind: 'succeeded' });
    expect(h.calls.map((c) => c.timeoutMs)).toEqual([MIN_CALL_MS]);
  });

  it('gives a call MIN_CALL_MS when the fallback reserve would leave it less', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      budgetSeconds: 10,
      elapsedMs: 10_000 - 300,
      stats: [makeStats('svc-b', 'generic', { successes: 20, eachMs: 5_000 })],
      script: [ok('done')],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'succeeded' });
    expect(h.calls.map((c) => c.timeoutMs)).toEqual([MIN_CALL_MS]);
  });

  it('stops with kind deadline after a failover when the budget ran out, naming the last error', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      budgetSeconds: 10,
      script: [fail('error', 'svc-a fell over', false, 9_900), ok('never')],
    });
    const outcome = await h.run.proceed({ retries: true });
    expect(outcome).toMatchObject({ kind: 'failed', error: { kind: 'deadline' } });
    expect(outcome.kind === 'failed' ? outcome.error.message : '').toContain('svc-a fell over');
    expect(h.calls.map((c) => c.endpoint)).toEqual(['http://svc-a:8080']);
  });
});

describe('TaskRun: after a failed call', () => {
  it("asks for a retry of the same service after the policy's delay", async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'], policy: { baseDelaySeconds: 2 } }),
      script: [fail('error', 'HTTP 503', true)],
    });
    expect(await h.run.proceed({ retries: true })).toEqual({
      kind: 'retry',
      service: 'svc-a',
      delaySeconds: 2,
    });
    expect(h.failovers).toEqual([]);
    expect(h.calls).toHaveLength(1);
  });

  it('backs off with the number of calls the service has had', async () => {
    const h = harness({
      route: makeRoute('svc-a', { policy: { baseDelaySeconds: 2, factor: 2 } }),
      attempts: [EARLIER_503],
      script: [fail('error', 'HTTP 503', true)],
    });
    // Second retry of an exponential policy: base x factor.
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'retry', delaySeconds: 4 });
  });

  it('fails over when the caller handles no retries', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'], policy: { baseDelaySeconds: 2 } }),
      script: [fail('error', 'HTTP 503', true), ok({ answer: 42 })],
    });
    const outcome = await h.run.proceed({ retries: false });
    expect(outcome).toMatchObject({ kind: 'succeeded', service: 'svc-b', output: { answer: 42 } });
    expect(h.failovers.map((d) => d.primary)).toEqual(['svc-a']);
    expect(h.calls.map((c) => c.endpoint)).toEqual(['http://svc-a:8080', 'http://svc-b:8080']);
    expect(h.run.route?.primary).toBe('svc-b');
  });

  it('fails over when the delay does not fit in the budget', async () => {
    const policy = { baseDelaySeconds: 5 };
    // 10 s budget, the failed call took 5 s: a 5 s delay leaves no time for the retried call.
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'], policy }),
      budgetSeconds: 10,
      script: [fail('timeout', 'timed out', true, 5_000), ok('done')],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'succeeded', service: 'svc-b' });
    expect(h.failovers).toHaveLength(1);

    // The same with a 4 s delay fits.
    const fits = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'], policy: { baseDelaySeconds: 4 } }),
      budgetSeconds: 10,
      script: [fail('timeout', 'timed out', true, 5_000)],
    });
    expect(await fits.run.proceed({ retries: true })).toEqual({
      kind: 'retry',
      service: 'svc-a',
      delaySeconds: 4,
    });
  });

  it("fails over once the policy's retries are spent", async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'], policy: { maxRetries: 1 } }),
      attempts: [EARLIER_503],
      script: [fail('error', 'HTTP 503', true), ok('done')],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'succeeded', service: 'svc-b' });
    expect(h.failovers).toHaveLength(1);
  });

  it('fails over at once after a failure not worth retrying', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      script: [fail('rejected', 'HTTP 400', false), ok('done')],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'succeeded', service: 'svc-b' });
    expect(h.failovers.map((d) => d.primary)).toEqual(['svc-a']);
  });

  it('fails with kind exhausted and the last error when no fallback is left', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      script: [fail('rejected', 'HTTP 400 from a', false), fail('rejected', 'HTTP 422 from b', false)],
    });
    const outcome = await h.run.proceed({ retries: true });
    expect(outcome).toMatchObject({ kind: 'failed', error: { kind: 'exhausted' } });
    const message = outcome.kind === 'failed' ? outcome.error.message : '';
    expect(message).toContain('HTTP 422 from b');
    expect(message).not.toContain('HTTP 400 from a');
    expect(outcomes(h.run)).toEqual([
      ['svc-a', 'failed'],
      ['svc-b', 'failed'],
    ]);
  });
});

/** A 503 or 429 carrying `Retry-After`, as the HTTP client reports it. */
const busy = (retryAfterMs: number, status = 503, latencyMs = 50): FactoryCallResult => ({
  ok: false,
  error: { kind: 'error', message: `HTTP ${status}`, status },
  retryable: true,
  latencyMs,
  retryAfterMs,
});

describe('TaskRun: Retry-After', () => {
  it("waits what the factory asked instead of the policy's back-off", async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'], policy: { baseDelaySeconds: 2, jitter: 1 } }),
      script: [busy(7_000)],
    });
    // Neither the 2 s base nor the jitter: the factory named the time.
    expect(await h.run.proceed({ retries: true })).toEqual({
      kind: 'retry',
      service: 'svc-a',
      delaySeconds: 7,
    });
    expect(h.failovers).toEqual([]);
  });

  it('takes a Retry-After shorter than the back-off as it is, on a 429 as on a 503', async () => {
    const h = harness({
      route: makeRoute('svc-a', { policy: { baseDelaySeconds: 8 } }),
      attempts: [EARLIER_503],
      script: [busy(1_500, 429)],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'retry', delaySeconds: 1.5 });
  });

  it("is capped by the policy's maxDelaySeconds", async () => {
    const h = harness({
      route: makeRoute('svc-a', { policy: { maxDelaySeconds: 5 } }),
      script: [busy(7_000)],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'retry', delaySeconds: 5 });
  });

  it('fails over when the asked delay does not fit in the budget, rather than shorten it', async () => {
    // 10 s budget, 1 s spent by the call: 9 s asked leaves less than MIN_CALL_MS for the retry.
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      budgetSeconds: 10,
      script: [busy(9_000, 503, 1_000), ok('done')],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'succeeded', service: 'svc-b' });
    expect(h.failovers.map((d) => d.primary)).toEqual(['svc-a']);

    const fits = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      budgetSeconds: 10,
      script: [busy(8_000, 503, 1_000)],
    });
    expect(await fits.run.proceed({ retries: true })).toMatchObject({ kind: 'retry', delaySeconds: 8 });
  });

  it("asks for no retry once the policy's retries are spent, whatever the factory says", async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'], policy: { maxRetries: 1 } }),
      attempts: [EARLIER_503],
      script: [busy(1_000), ok('done')],
    });
    expect(await h.run.proceed({ retries: true })).toMatchObject({ kind: 'succeeded', service: 'svc-b' });
  });

  it('fails over at once when the caller handles no retries (workflow steps)', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      script: [busy(7_000), ok('done')],
    });
    expect(await h.run.proceed({ retries: false })).toMatchObject({ kind: 'succeeded', service: 'svc-b' });
    expect(h.calls.map((c) => c.endpoint)).toEqual(['http://svc-a:8080', 'http://svc-b:8080']);
  });
});

describe('TaskRun: callbacks', () => {
  it('waits until the end of the budget when the factory accepts the work (202)', async () => {
    const h = harness({ budgetSeconds: 120, script: [accepted(40)] });
    const outcome = await h.run.proceed({ retries: true, callback: offer });

    expect(outcome).toEqual({
      kind: 'waiting',
      service: 'svc-a',
      tokenHash: 'hash-svc-a-1',
      until: '2026-01-15T10:02:00.000Z',
    });
    expect(h.calls[0]?.request).toMatchObject({
      callbackUrl: 'https://api.example.com/callbacks/tok-svc-a-1',
      taskToken: 'tok-svc-a-1',
    });
    expect(h.run.attempts).toEqual([
      { service: 'svc-a', attempt: 1, outcome: 'waiting', latencyMs: 40, at: '2026-01-15T10:00:00.040Z' },
    ]);
    // The call is not settled: nothing is learned from it yet.
    expect(h.run.observations).toEqual([]);
    expect(h.observed).toEqual([]);
  });

  it('sends no callback URL when no offer is made', async () => {
    const h = harness({ script: [ok('done')] });
    await h.run.proceed({ retries: true });
    expect(h.calls[0]?.request.callbackUrl).toBeUndefined();
    expect(h.calls[0]?.request.taskToken).toBeUndefined();
  });

  it('settleWaiting turns the waiting call into a failed one, timed from its start', () => {
    const waiting: CallAttempt = {
      service: 'svc-a',
      attempt: 1,
      outcome: 'waiting',
      latencyMs: 40,
      at: '2026-01-15T10:00:01.000Z',
    };
    // The call started at 10:00:00.960 and is given up at 10:00:30.
    const h = harness({ attempts: [waiting], elapsedMs: 30_000 });
    h.run.settleWaiting({ kind: 'timeout', message: 'no callback in time' });

    expect(h.run.attempts).toEqual([
      {
        service: 'svc-a',
        attempt: 1,
        outcome: 'failed',
        latencyMs: 29_040,
        error: { kind: 'timeout', message: 'no callback in time' },
        at: '2026-01-15T10:00:30.000Z',
      },
    ]);
    const expected = {
      taskType: 'generic',
      service: 'svc-a',
      success: false,
      timedOut: true,
      latencyMs: 29_040,
      at: '2026-01-15T10:00:30.000Z',
      routedBy: undefined,
      features: ['priority=normal', 'size=small'],
    };
    expect(h.run.observations).toEqual([expected]);
    expect(h.observed).toEqual([expected]);
  });
});

describe('TaskRun: what is learned', () => {
  it('gives one observation per settled call, routedBy only on the first call of the route', async () => {
    const h = harness({
      route: makeRoute('svc-a', { fallbacks: ['svc-b', 'svc-c'] }),
      script: [
        fail('rejected', 'HTTP 400', false, 30),
        fail('timeout', 'timed out', true, 200),
        ok('done', 70),
      ],
    });
    expect(await h.run.proceed({ retries: false })).toMatchObject({ kind: 'succeeded', service: 'svc-c' });

    expect(h.run.observations).toEqual([
      {
        taskType: 'generic',
        service: 'svc-a',
        success: false,
        timedOut: false,
        latencyMs: 30,
        at: '2026-01-15T10:00:00.030Z',
        routedBy: 'capability',
        features: ['priority=normal', 'size=small'],
      },
      {
        taskType: 'generic',
        service: 'svc-b',
        success: false,
        timedOut: true,
        latencyMs: 200,
        at: '2026-01-15T10:00:00.230Z',
        routedBy: undefined,
        features: ['priority=normal', 'size=small'],
      },
      {
        taskType: 'generic',
        service: 'svc-c',
        success: true,
        timedOut: false,
        latencyMs: 70,
        at: '2026-01-15T10:00:00.300Z',
        routedBy: undefined,
        features: ['priority=normal', 'size=small'],
      },
    ]);
    expect(h.observed).toEqual(h.run.observations);
    expect(outcomes(h.run)).toEqual([
      ['svc-a', 'failed'],
      ['svc-b', 'failed'],
      ['svc-c', 'succeeded'],
    ]);
  });

  it('gives no routedBy to the call of a continuation', async () => {
    const h = harness({ attempts: [EARLIER_503], script: [ok('done')] });
    await h.run.proceed({ retries: true });
    expect(h.run.observations.map((o) => o.routedBy)).toEqual([undefined]);
    expect(h.run.attempts.map((a) => a.attempt)).toEqual([1, 2]);
  });

  it('counts a call in flight while it runs', async () => {
    let during: number | undefined;
    const h = harness({
      script: [ok('done')],
      during: () => {
        during = h.health.apply([makeService('svc-a')])[0]?.load;
      },
    });
    await h.run.proceed({ retries: true });
    expect(during).toBe(1);
    expect(h.health.apply([makeService('svc-a')])[0]?.load).toBe(0);
  });

  it('keeps the health changes passive health asks for', async () => {
    const clock = manualClock(START);
    const health = new PassiveHealth({ failureThreshold: 1, cooldownSeconds: 30 }, clock.now);
    const h = harness({
      health,
      route: makeRoute('svc-a', { fallbacks: ['svc-b'] }),
      // svc-b was ejected by another worker and answers again.
      services: [makeService('svc-b', { health: 'unhealthy', cooldownUntil: '2026-01-15T09:59:00.000Z' })],
      script: [fail('error', 'HTTP 500', false), ok('done')],
    });
    await h.run.proceed({ retries: true });
    expect(h.run.healthChanges.map((c) => [c.service, c.health])).toEqual([
      ['svc-a', 'unhealthy'],
      ['svc-b', 'healthy'],
    ]);
  });
});

describe('TaskRun: context', () => {
  it('fails with kind context, without calling, when the named context is missing', async () => {
    const h = harness({
      task: makeTask({ contextId: 'ctx-1' }),
      context: async (id) => {
        throw new NotFoundError('context', id);
      },
      script: [ok('done')],
    });
    const outcome = await h.run.proceed({ retries: true });
    expect(outcome).toMatchObject({ kind: 'failed', error: { kind: 'context' } });
    expect(outcome.kind === 'failed' ? outcome.error.message : '').toContain('ctx-1');
    expect(h.calls).toEqual([]);
  });

  it('sends the context to the factory', async () => {
    const h = harness({
      task: makeTask({ contextId: 'ctx-1', parameters: { n: 1 } }),
      context: async (id) => ({ id, tone: 'formal' }),
      script: [ok('done')],
    });
    await h.run.proceed({ retries: true });
    expect(h.calls[0]?.request).toMatchObject({
      taskId: 'task-1',
      action: 'generic',
      parameters: { n: 1 },
      context: { id: 'ctx-1', tone: 'formal' },
    });
  });

  it('lets any other failure of the context read through', async () => {
    const h = harness({
      task: makeTask({ contextId: 'ctx-1' }),
      context: async () => {
        throw new Error('throttled');
      },
    });
    await expect(h.run.proceed({ retries: true })).rejects.toThrow('throttled');
    expect(h.calls).toEqual([]);
  });
});
