import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactory } from '../helpers/factory-server.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;

/** A service's flow limit holds across the local runtime's concurrent workers. */
describe('flow control', () => {
  let runtime: Runtime;
  let factory: Awaited<ReturnType<typeof startFactory>>;
  let inFlight = 0;
  let peak = 0;

  beforeAll(async () => {
    runtime = await startTestRuntime({ routingCacheMs: 200 });
    factory = await startFactory(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 40));
      inFlight--;
      return { status: 200, body: { status: 'succeeded', output: { ok: true } } };
    });
    const registered = await runtime.api.post('/services', {
      name: 'narrow',
      endpoint: factory.endpoint,
      capabilities: ['render'],
    });
    expect(registered.status).toBe(201);
    const policy = await runtime.api.put('/routing/policy', {
      changedBy: 'ops',
      reason: 'narrow allows 5 calls at once',
      policy: { limits: { narrow: { maxInFlight: 5 } } },
      activate: true,
    });
    expect(policy.status).toBe(201);
    await new Promise((r) => setTimeout(r, 300));
  }, 60_000);

  afterAll(async () => {
    await factory?.close();
    await runtime?.stop(1_000);
  });

  it('holds a burst of 200 tasks to 5 calls in flight, and every task ends', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
    const submitted = await Promise.all(
      ids.map((id) => runtime.api.post('/tasks', { id, type: 'render', resources: { timeoutSeconds: 600 } })),
    );
    expect(submitted.every((r) => r.status === 202)).toBe(true);
    const ended = await Promise.all(
      ids.map((id) =>
        runtime.api.until(`/tasks/${id}`, (t) => t.status === 'SUCCEEDED' || t.status === 'FAILED', 240_000),
      ),
    );
    expect(ended.filter((t) => t.status === 'SUCCEEDED')).toHaveLength(200);
    expect(peak).toBeLessThanOrEqual(5);
    // The limit was reached (the test would prove nothing otherwise), and each task was called once.
    expect(peak).toBe(5);
    expect(factory.calls).toHaveLength(200);
    // Tasks that found it full waited without a failed call of their own.
    expect(ended.every((t) => t.attempts.length === 1 && t.attempts[0].outcome === 'succeeded')).toBe(true);
  }, 300_000);
});
