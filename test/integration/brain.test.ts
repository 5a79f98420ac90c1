import { describe, expect, it } from 'vitest';
import { prioritize } from '../../lib/core/priority.ts';
import { backends, callOutcome, createStack, manualClock, registerAll } from '../helpers/stack.ts';

const SEED_BATCH = [
  { id: 't1', type: 'email_campaign', priority: 'normal' },
  { id: 't2', type: 'fraud_detection', priority: 'high' },
  { id: 't3', type: 'video_generation', priority: 'high' },
  { id: 't4', type: 'finance', priority: 'critical' },
] as const;

describe.each(backends())('brain on $kind', (backend) => {
  it('scores and orders the example batch: finance 6.0, fraud 4.5, video 2.4, email 2.0', async () => {
    const { orchestrator } = await createStack(backend);
    await orchestrator.services.register({
      name: 'generalist',
      endpoint: 'http://generalist:5000',
      capabilities: SEED_BATCH.map((t) => t.type),
    });
    const decisions = await Promise.all(SEED_BATCH.map((task) => orchestrator.brain.decide(task)));
    expect(decisions.map((d) => d.priorityScore)).toEqual([2.0, 4.5, 2.4, 6.0]);
    expect(prioritize(SEED_BATCH).map((t) => t.type)).toEqual([
      'finance',
      'fraud_detection',
      'video_generation',
      'email_campaign',
    ]);
    // Deciding writes nothing: decisions are counted by metrics, and by the statistics when routed.
    expect((await orchestrator.reports.performanceSummary()).totalDecisions).toBe(0);
  });

  it('starts at confidence 0.7 following router order, and gains confidence as it learns', async () => {
    const clock = manualClock();
    const { orchestrator } = await createStack(backend, { now: clock.now });
    const { brain, services } = orchestrator;
    await registerAll(services, [
      { name: 'email-ai', endpoint: 'http://email-ai:5100', capabilities: ['email_campaign'] },
      { name: 'marketing-ai', endpoint: 'http://marketing-ai:5200', capabilities: ['email_campaign'] },
    ]);

    const first = await brain.decide({ id: 'd0', type: 'email_campaign', priority: 'high' });
    expect(first.confidence).toBe(0.7);
    expect(first.selectedService).toBe('email-ai');
    expect(first.priorityScore).toBe(3);
    expect(first.reason).toMatch(/no history yet/);

    const confidences: number[] = [];
    for (let i = 0; i < 10; i++) {
      await brain.learn(callOutcome(`ok-${i}`, 'email_campaign', 'marketing-ai', 5_200));
      confidences.push((await brain.decide({ id: `d${i + 1}`, type: 'email_campaign' })).confidence);
    }
    for (let i = 1; i < confidences.length; i++)
      expect(confidences[i]).toBeGreaterThan(confidences[i - 1] as number);
    const learned = await brain.decide({ id: 'd-final', type: 'email_campaign', priority: 'high' });
    expect(learned.selectedService).toBe('marketing-ai');
    expect(learned.confidence).toBe(0.95);
    expect(learned.reason).toMatch(/marketing-ai has the best record: 10\/10 successes/);

    const summary = await orchestrator.reports.performanceSummary();
    expect(summary).toMatchObject({ taskTypesLearned: 1, taskTypes: ['email_campaign'] });
  });

  it('loses confidence in a service that keeps failing and prefers the reliable one', async () => {
    const { orchestrator } = await createStack(backend);
    const { brain, services } = orchestrator;
    await services.register({ name: 'flaky', endpoint: 'http://flaky:1', capabilities: ['finance'] });
    await services.register({ name: 'steady', endpoint: 'http://steady:1', capabilities: ['finance'] });
    for (let i = 0; i < 20; i++) {
      await brain.learn(
        callOutcome(`f-${i}`, 'finance', 'flaky', 200, i % 2 === 0 ? undefined : 'upstream 500'),
      );
      await brain.learn(callOutcome(`s-${i}`, 'finance', 'steady', 400));
    }
    const decision = await brain.decide({ id: 'x', type: 'finance', priority: 'critical' });
    expect(decision.selectedService).toBe('steady');
    expect(decision.priorityScore).toBe(6);
    expect(decision.alternatives.map((a) => a.service)).toEqual(['steady', 'flaky']);
    expect(decision.alternatives[1]?.expectedUtility).toBeLessThan(0.6);
  });

  it('sizes resources from the task profile, the request, and observed latency', async () => {
    const { orchestrator } = await createStack(backend);
    const { brain, services } = orchestrator;
    await services.register({
      name: 'video-ai',
      endpoint: 'http://video-ai:1',
      capabilities: ['video_generation', 'email_campaign'],
    });
    expect((await brain.decide({ id: 'v', type: 'video_generation' })).resources).toEqual({
      cpu: 4,
      memoryMb: 8_192,
      timeoutSeconds: 300,
    });
    expect(
      (await brain.decide({ id: 'e', type: 'email_campaign', resources: { cpu: 4, memoryMb: 8_192 } }))
        .resources,
    ).toEqual({
      cpu: 4,
      memoryMb: 8_192,
      timeoutSeconds: 30,
    });
    // Observed p95 of about 40 s: the timeout grows to twice that.
    for (let i = 0; i < 5; i++) {
      await brain.learn(callOutcome(`slow-${i}`, 'email_campaign', 'video-ai', 40_000));
    }
    const slow = await brain.decide({ id: 'e2', type: 'email_campaign' });
    expect(slow.resources.timeoutSeconds).toBeGreaterThanOrEqual(80);
    expect(slow.resources.timeoutSeconds).toBeLessThanOrEqual(Math.ceil(80 * Math.SQRT2));
  });

  it('decides with no service at all, saying so', async () => {
    const { orchestrator } = await createStack(backend);
    const decision = await orchestrator.brain.decide({ id: 'lonely', type: 'crypto_prediction' });
    expect(decision.selectedService).toBeUndefined();
    expect(decision.reason).toMatch(/no enabled, healthy service/);
  });

  it('rejects a malformed task with the field named', async () => {
    const { orchestrator } = await createStack(backend);
    await expect(
      orchestrator.brain.decide({ id: 'x', type: 'email', priority: 'urgent' as never }),
    ).rejects.toThrow(/priority/);
    await expect(orchestrator.brain.decide({ id: 'x', type: 'bad type!' })).rejects.toThrow(/^type: /);
  });
});
