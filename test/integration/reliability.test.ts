import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { startExampleFactory } from '../../lib/local/factories/index.ts';
import { invoke } from '../../lib/local/functions.ts';
import { sqsEvent, sqsRecord, taskRequestedEvent } from '../helpers/events.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { backends, createServingStack, seededRandom } from '../helpers/stack.ts';

/** VOBEE_HEAVY=1 runs the heavier variants (30,000 events, 600 tasks and 60 runs under faults). */
const HEAVY = process.env.VOBEE_HEAVY === '1';
const backend = backends()[0];
if (!backend) throw new Error('no local DynamoDB');

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function settle(engine: { running(): string[] }, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (engine.running().length > 0) {
    if (Date.now() > deadline) throw new Error(`${engine.running().length} executions still running`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('reliability', () => {
  it(`${HEAVY ? '30,000' : '10,000'} task events with 30 % duplicate deliveries take effect exactly once`, {
    timeout: HEAVY ? 1_800_000 : 600_000,
  }, async () => {
    // The registry does not change here: routing reads it, and the statistics, every 5 s as deployed.
    const stack = await createServingStack(backend, { cacheMs: 5_000 });
    const factory = await startFactory(() => ({ status: 200, body: { status: 'ok', output: 'sent' } }));
    closers.push(factory.close);
    await stack.orchestrator.services.register({
      name: 'email-ai',
      endpoint: factory.endpoint,
      capabilities: ['email_campaign'],
    });

    const random = seededRandom(2026);
    const total = HEAVY ? 30_000 : 10_000;
    const unique = Math.round(total * 0.7);
    // Half arrive as EventBridge TaskRequested events, half as messages sent to the queue directly.
    const bodies = Array.from({ length: unique }, (_, i) =>
      i % 2 === 0
        ? JSON.stringify(taskRequestedEvent({ type: 'email_campaign', parameters: { n: i } }, `evt-${i}`))
        : JSON.stringify({ id: `msg-task-${i}`, type: 'email_campaign', parameters: { n: i } }),
    );
    const deliveries = [
      ...bodies,
      ...Array.from({ length: total - unique }, () => bodies[Math.floor(random() * unique)] as string),
    ];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j] as string, deliveries[i] as string];
    }
    for (let i = 0; i < deliveries.length; i += 10) {
      const batch = deliveries.slice(i, i + 10).map((body) => sqsRecord(body));
      const response = (await invoke('TaskIntake', sqsEvent(batch))) as SQSBatchResponse;
      expect(response.batchItemFailures).toEqual([]);
      // Let the task queue drain now and then, as a real consumer would be throttled by concurrency.
      if (stack.queue.depth > 200) await stack.settle(120_000);
    }
    await stack.settle(300_000);

    // One factory call and one stored result per distinct task, counters exact.
    expect(factory.calls).toHaveLength(unique);
    expect(new Set(factory.calls.map((c) => c.taskId)).size).toBe(unique);
    const [stats] = await stack.stores.stats.statsFor('email_campaign');
    expect(stats).toMatchObject({ count: unique, successes: unique, failures: 0 });
    // One task record per distinct task, each finished with one save.
    let finished = 0;
    let records = 0;
    let start: Record<string, unknown> | undefined;
    // Scans page at 1 MB: count every page.
    do {
      const page = await stack.doc.send(
        new ScanCommand({
          TableName: stack.tables.memory,
          FilterExpression: 'begins_with(pk, :t)',
          ExpressionAttributeValues: { ':t': 'TASK#' },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        records++;
        if (item.status === 'SUCCEEDED' && item.seq === 1) finished++;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    expect(records).toBe(unique);
    expect(finished).toBe(unique);
  });

  it('under 30 % failures and 10 % timeouts, every task and workflow ends, with a cause when it fails', {
    timeout: HEAVY ? 900_000 : 120_000,
  }, async () => {
    const stack = await createServingStack(backend, { callTimeoutMs: 2_000 });
    // Factories share this process with the database and the engine: the call timeout leaves room for that load.
    const faults = { failureRate: 0.3, timeoutRate: 0.1, hangMs: 2_500, seed: 11 };
    const factories = await Promise.all([
      startExampleFactory('research', { ...faults, name: 'research-a' }),
      startExampleFactory('research', { ...faults, name: 'research-b', seed: 12 }),
      startExampleFactory('media', { ...faults, name: 'media-a', seed: 13 }),
      startExampleFactory('media', { ...faults, name: 'media-b', seed: 14 }),
    ]);
    for (const f of factories) {
      closers.push(() => f.close());
      await stack.orchestrator.services.register({
        name: f.name,
        endpoint: f.endpoint,
        factoryType: f.kind,
        capabilities: f.capabilities,
      });
    }
    const { productLaunchCampaign } = await import('../../lib/core/workflow/examples.ts');
    await stack.orchestrator.workflows.register(productLaunchCampaign);

    const tasks = HEAVY ? 600 : 120;
    const runs = HEAVY ? 60 : 10;
    const submitted = await Promise.all(
      Array.from({ length: tasks }, (_, i) =>
        stack.orchestrator.tasks.submit({
          id: `load-${i}`,
          type: i % 2 ? 'market_analysis' : 'generate_image',
          parameters: { market_sector: 'technology', prompt: `p${i}` },
        }),
      ),
    );
    const started = await Promise.all(
      Array.from({ length: runs }, () => stack.orchestrator.workflows.start('product-launch-campaign', {})),
    );
    expect(submitted.every((s) => s.created)).toBe(true);
    await Promise.all([stack.settle(300_000), settle(stack.engine, 300_000)]);

    const records = await Promise.all(
      submitted.map((s) => stack.orchestrator.taskQueries.get(s.task.taskId)),
    );
    const byStatus = Map.groupBy(records, (r) => r.status);
    expect([...byStatus.keys()].every((s) => s === 'SUCCEEDED' || s === 'FAILED')).toBe(true);
    for (const failed of byStatus.get('FAILED') ?? [])
      expect(failed.error?.message.length).toBeGreaterThan(0);
    // Retries and fallbacks carry most tasks through.
    expect((byStatus.get('SUCCEEDED') ?? []).length).toBeGreaterThan(tasks * 0.9);
    // Every task ended (checked above), so every one is remembered, with its outcome.
    const remembered = await Promise.all(
      records.map((r) => stack.orchestrator.memory.getResult(r.taskId).then((result) => result.success)),
    );
    expect(remembered).toEqual(records.map((r) => r.status === 'SUCCEEDED'));

    const views = await Promise.all(
      started.map((s) => stack.orchestrator.workflows.describe(s.execution.executionId)),
    );
    for (const view of views) {
      expect(['SUCCEEDED', 'FAILED']).toContain(view.status);
      // A run states an error exactly when it failed, and every step succeeded exactly when it did.
      expect(Boolean(view.error?.error)).toBe(view.status === 'FAILED');
      expect(view.steps.every((s) => s.status === 'SUCCEEDED')).toBe(view.status === 'SUCCEEDED');
    }
    const calls = factories.reduce((n, f) => n + f.stats().completed + f.stats().failed, 0);
    expect(calls).toBeGreaterThan(tasks);
  });
});
