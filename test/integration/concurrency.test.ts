import { describe, expect, it } from 'vitest';
import { backends, createStack } from '../helpers/stack.ts';

describe.each(backends())('concurrent learning on $kind', (backend) => {
  it('1,000 concurrent learn updates for one (task type, service) leave exact counters, duplicates ignored', async () => {
    const { orchestrator, stores } = await createStack(backend);
    const outcomes = Array.from({ length: 1_000 }, (_, i) => ({
      taskId: `task-${i}`,
      taskType: 'email_campaign',
      service: 'email-ai',
      success: i % 10 !== 0,
      executionMs: (i % 50) * 20,
      ...(i % 10 === 0 ? { error: { kind: 'error' as const, message: 'failed' } } : {}),
    }));
    // Every outcome delivered, and every fourth one delivered twice at the same time.
    const deliveries = [...outcomes, ...outcomes.filter((_, i) => i % 4 === 0)];
    const recorded = await Promise.all(deliveries.map((o) => orchestrator.brain.learn(o)));
    expect(recorded.filter(Boolean)).toHaveLength(1_000);

    const [stats] = await stores.stats.statsFor('email_campaign');
    expect(stats).toBeDefined();
    expect(stats?.count).toBe(1_000);
    expect(stats?.successes).toBe(900);
    expect(stats?.failures).toBe(100);
    expect(stats?.totalMs).toBe(outcomes.reduce((sum, o) => sum + o.executionMs, 0));
    expect(stats?.histogram.reduce((a, b) => a + b, 0)).toBe(1_000);
    const patterns = await stores.stats.patternsFor('email_campaign');
    expect(patterns.find((p) => p.key === 'service:email-ai')).toMatchObject({
      total: 1_000,
      successes: 900,
    });
  });
});
