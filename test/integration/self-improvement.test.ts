import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import { backends, createStack, manualClock, registerAll, type TestStack } from '../helpers/stack.ts';

async function registrySnapshot({ doc, tables }: TestStack): Promise<string> {
  const { Items } = await doc.send(new ScanCommand({ TableName: tables.registry, ConsistentRead: true }));
  return JSON.stringify((Items ?? []).sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`)));
}

/** A registry and a day of outcomes with one problem in each analysis area. */
async function troubledDay(stack: TestStack, clock: ReturnType<typeof manualClock>) {
  const { services, modules, brain } = stack.orchestrator;
  await registerAll(services, [
    { name: 'email-ai', endpoint: 'http://email-ai:1', capabilities: ['email_campaign'] },
    { name: 'marketing-ai', endpoint: 'http://marketing-ai:1', capabilities: ['email_campaign'] },
    { name: 'video-ai', endpoint: 'http://video-ai:1', capabilities: ['video_generation'] },
    { name: 'broken-ai', endpoint: 'http://broken-ai:1', capabilities: ['finance'] },
  ]);
  await services.setHealth('broken-ai', 'unhealthy', 'probe: connection refused');
  await registerAll(modules, [
    { name: 'database-connector', category: 'infrastructure', enabled: true },
    { name: 'email-ai', category: 'business', dependencies: ['database-connector'], enabled: true },
  ]);

  const learn = [];
  for (let i = 0; i < 30; i++) {
    const fails = i % 5 < 2; // 40 % of email-ai calls fail
    learn.push(
      brain.learn({
        taskId: `e${i}`,
        taskType: 'email_campaign',
        service: 'email-ai',
        success: !fails,
        executionMs: 800,
        completedAt: clock.now().toISOString(),
        ...(fails ? { error: { kind: 'error' as const, message: 'smtp 451' } } : {}),
      }),
      brain.learn({
        taskId: `v${i}`,
        taskType: 'video_generation',
        service: 'video-ai',
        success: i % 4 !== 0,
        executionMs: 45_000,
        completedAt: clock.now().toISOString(),
        ...(i % 4 === 0 ? { error: { kind: 'timeout' as const, message: 'no answer in 60 s' } } : {}),
      }),
    );
  }
  for (let i = 0; i < 3; i++) {
    learn.push(
      brain.learn({
        taskId: `m${i}`,
        taskType: 'email_campaign',
        service: 'marketing-ai',
        success: true,
        executionMs: 700,
        completedAt: clock.now().toISOString(),
      }),
    );
  }
  await Promise.all(learn);
}

describe.each(backends())('self-improvement on $kind', (backend) => {
  it('finds problems in every area and only ever suggests: the registry is never written', async () => {
    const clock = manualClock('2026-03-02T12:00:00.000Z');
    const stack = await createStack(backend, { now: clock.now });
    await troubledDay(stack, clock);
    clock.advance(3_600_000);
    const { selfImprovement } = stack.orchestrator;
    const before = await registrySnapshot(stack);

    const { suggestions, created } = await selfImprovement.analyzePerformance(24);
    expect(created).toBe(suggestions.length);
    const areas = new Set(suggestions.map((s) => s.area));
    expect([...areas].sort()).toEqual(['failure_rate', 'health', 'latency', 'load_balance', 'resources']);
    for (const s of suggestions) {
      expect(s.autoApply).toBe(false);
      expect(s.requires).toBe('MANUAL_APPROVAL');
      expect(s.status).toBe('pending');
    }
    const failure = suggestions.find((s) => s.area === 'failure_rate');
    expect(failure).toMatchObject({
      priority: 'high',
      subject: { taskType: 'email_campaign', service: 'email-ai' },
    });
    expect(failure?.evidence).toMatchObject({ count: 30, failures: 12, failureRate: 0.4 });
    const health = suggestions.find((s) => s.area === 'health');
    expect(health?.proposedAction).toMatchObject({
      type: 'disable_service',
      parameters: { service: 'broken-ai' },
    });

    // Again the same day: no duplicates.
    expect((await selfImprovement.analyzePerformance(24)).created).toBe(0);
    expect(await selfImprovement.listSuggestions()).toHaveLength(suggestions.length);

    // A person decides; the proposal is still not carried out by the system.
    await selfImprovement.accept(health?.id as string, {
      decidedBy: 'ops@vobee',
      note: 'will fix the probe first',
    });
    await selfImprovement.reject(failure?.id as string, { decidedBy: 'ops@vobee' });
    await expect(
      selfImprovement.accept(failure?.id as string, { decidedBy: 'someone' }),
    ).rejects.toBeInstanceOf(ConflictError);
    await selfImprovement.trackImprovement(health?.id as string, {
      before: { response_time: 3.5, successRate: 0.6 },
      after: { response_time: 2.1, successRate: 0.9 },
      higherIsBetter: ['successRate'],
    });

    expect(await registrySnapshot(stack)).toBe(before);
    expect((await stack.orchestrator.services.get('broken-ai')).enabled).toBe(true);
    expect((await stack.orchestrator.modules.status('email-ai')).enabled).toBe(true);

    const report = await selfImprovement.improvementReport();
    expect(report.byStatus).toMatchObject({ implemented: 1, rejected: 1, pending: suggestions.length - 2 });
    expect(report.acceptanceRate).toBe(0.5);
    expect(report.meanImprovementByMetric.response_time).toBeCloseTo(0.4, 5);
    expect(report.meanImprovementByMetric.successRate).toBeCloseTo(0.5, 5);
  });

  it('orders pending suggestions by priority and filters by it', async () => {
    const clock = manualClock('2026-03-02T12:00:00.000Z');
    const stack = await createStack(backend, { now: clock.now });
    await troubledDay(stack, clock);
    const { selfImprovement } = stack.orchestrator;
    await selfImprovement.analyzePerformance(24);
    const pending = await selfImprovement.listSuggestions();
    const rank = { critical: 0, high: 1, medium: 2, low: 3 };
    for (let i = 1; i < pending.length; i++) {
      expect(rank[(pending[i] as (typeof pending)[number]).priority]).toBeGreaterThanOrEqual(
        rank[(pending[i - 1] as (typeof pending)[number]).priority],
      );
    }
    const high = await selfImprovement.listSuggestions({ priority: 'high' });
    expect(high.length).toBeGreaterThan(0);
    expect(high.every((s) => s.priority === 'high')).toBe(true);
    await expect(selfImprovement.listSuggestions({ priority: 'urgent' as never })).rejects.toThrow(
      /^priority: /,
    );
  });

  it('looks only at the window it is asked about', async () => {
    const clock = manualClock('2026-03-02T12:00:00.000Z');
    const stack = await createStack(backend, { now: clock.now });
    await troubledDay(stack, clock);
    clock.advance(3 * 24 * 3_600_000);
    const { suggestions } = await stack.orchestrator.selfImprovement.analyzePerformance(24);
    // Outcomes are three days old: only the live health problem remains.
    expect(suggestions.map((s) => s.area)).toEqual(['health']);
    expect(
      (await stack.orchestrator.selfImprovement.analyzePerformance(96)).suggestions.length,
    ).toBeGreaterThan(1);
  });
});
