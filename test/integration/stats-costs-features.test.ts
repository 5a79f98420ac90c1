import { describe, expect, it } from 'vitest';
import type { CallObservation } from '../../lib/core/statistics.ts';
import { backends, createServingStack, manualClock } from '../helpers/stack.ts';

/** Costs and per-feature counters ride on the statistics write and survive the roll-up. */
describe.each(backends())('costs and task features in the statistics on $kind', (backend) => {
  it('keeps them per minute, and rolls them into the all-time counters, each call once', async () => {
    const clock = manualClock('2026-03-02T10:30:00.000Z');
    const stack = await createServingStack(backend, { now: clock.now });
    const call = (
      at: string,
      success: boolean,
      cost: number | undefined,
      features: string[],
    ): CallObservation => ({
      taskType: 'render',
      service: 'gpu-a',
      success,
      timedOut: false,
      latencyMs: 100,
      at,
      cost,
      features,
    });
    await stack.stores.stats.recordCalls([
      call('2026-03-02T10:01:00.000Z', true, 0.02, ['priority=high', 'keyword=video']),
      call('2026-03-02T10:02:00.000Z', false, 0.04, ['priority=high']),
      call('2026-03-02T10:29:00.000Z', true, undefined, ['keyword=video']),
    ]);
    const read = async () => (await stack.stores.stats.statsFor('render')).find((s) => s.service === 'gpu-a');
    const expected = {
      count: 3,
      costed: 2,
      features: {
        'priority=high': { count: 2, successes: 1 },
        'keyword=video': { count: 2, successes: 2 },
      },
    };
    const before = await read();
    expect(before).toMatchObject(expected);
    expect(before?.totalCost).toBeCloseTo(0.06, 9);
    // Rolled up (the last minute is still open): the same figures, none counted twice.
    await stack.orchestrator.rollUp();
    const after = await read();
    expect(after).toMatchObject(expected);
    expect(after?.totalCost).toBeCloseTo(0.06, 9);
  });
});
