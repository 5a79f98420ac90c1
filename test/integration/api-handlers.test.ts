import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoke } from '../../lib/local/functions.ts';
import { apiEvent, scheduledEvent, sqsEvent, sqsRecord, taskRequestedEvent } from '../helpers/events.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { backends, callOutcome, createServingStack, type TestStack, waitForTask } from '../helpers/stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field in tests
type Api = { status: number; body: any; headers: Record<string, unknown> };

async function api(id: string, ...args: Parameters<typeof apiEvent>): Promise<Api> {
  const result = (await invoke(id, apiEvent(...args))) as APIGatewayProxyStructuredResultV2 & {
    body: string;
  };
  return {
    status: result.statusCode as number,
    body: JSON.parse(result.body),
    headers: result.headers ?? {},
  };
}

/** PATCH /services/media-factory with `body`. */
const patchMediaFactory = (body: object) =>
  api('UpdateService', 'PATCH /services/{name}', { path: { name: 'media-factory' }, body });

// The handlers are the same on every backend: they run once, against dynalite.
const backend = backends()[0];
if (!backend) throw new Error('no local DynamoDB');

describe('HTTP API handlers', () => {
  let stack: TestStack & { engine: import('../../lib/engine/local-engine.ts').LocalEngine };
  let factory: Awaited<ReturnType<typeof startFactory>>;

  beforeAll(async () => {
    stack = await createServingStack(backend);
    factory = await startFactory(() => ({ status: 200, body: { status: 'ok', output: { ok: true } } }), {
      status: { status: 'degraded', queue: 12 },
      capabilities: { actions: ['generate_image'], taskTypes: ['image_generation'] },
    });
  });
  afterAll(() => factory.close());

  it('registers, lists, updates and sets the health of services', async () => {
    const created = await api('RegisterService', 'POST /services', {
      body: {
        name: 'media-factory',
        endpoint: factory.endpoint,
        factoryType: 'media',
        capabilities: ['generate_image'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/services/media-factory');
    expect(created.body).toMatchObject({
      name: 'media-factory',
      version: 1,
      health: 'healthy',
      enabled: true,
    });

    const again = await api('RegisterService', 'POST /services', {
      body: { name: 'media-factory', endpoint: factory.endpoint, capabilities: ['x'] },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toEqual({
      type: 'ConflictError',
      message: "service 'media-factory' already exists",
    });

    const listed = await api('ListServices', 'GET /services');
    expect(listed.body.services.map((s: { name: string }) => s.name)).toEqual(['media-factory']);

    const patched = await patchMediaFactory({ weight: 3, version: 1 });
    expect(patched.body).toMatchObject({ weight: 3, version: 2 });
    const stale = await patchMediaFactory({ weight: 4, version: 1 });
    expect(stale.status).toBe(409);

    const health = await api('SetServiceHealth', 'PUT /services/{name}/health', {
      path: { name: 'media-factory' },
      body: { health: 'degraded', reason: 'slow disks' },
    });
    expect(health.body).toMatchObject({ health: 'degraded', healthReason: 'slow disks' });
    expect(
      (
        await api('SetServiceHealth', 'PUT /services/{name}/health', {
          path: { name: 'ghost' },
          body: { health: 'healthy' },
        })
      ).status,
    ).toBe(404);
    // A patch changes only what it names: health and enabled survive it.
    await patchMediaFactory({ enabled: false });
    const reweighted = await patchMediaFactory({ weight: 5 });
    expect(reweighted.body).toMatchObject({ weight: 5, health: 'degraded', enabled: false });
    await patchMediaFactory({ enabled: true });
    const empty = await patchMediaFactory({ version: 1 });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toBe('body: must change at least one field');
  });

  it('asks factories for their status and capabilities, and reports one that does not answer', async () => {
    const status = await api('FactoryStatus', 'GET /services/{name}/status', {
      path: { name: 'media-factory' },
    });
    expect(status.body).toEqual({ service: 'media-factory', status: { status: 'degraded', queue: 12 } });
    const capabilities = await api('FactoryCapabilities', 'GET /services/{name}/capabilities', {
      path: { name: 'media-factory' },
    });
    expect(capabilities.body).toEqual({
      service: 'media-factory',
      registered: ['generate_image'],
      reported: { actions: ['generate_image'], taskTypes: ['image_generation'] },
    });
    await api('RegisterService', 'POST /services', {
      body: { name: 'gone', endpoint: 'http://127.0.0.1:9', capabilities: ['x'] },
    });
    const gone = await api('FactoryStatus', 'GET /services/{name}/status', { path: { name: 'gone' } });
    expect(gone.status).toBe(200);
    expect(gone.body.status.reachable).toBe(false);
  });

  it('refuses endpoints on the metadata service, link-local, private and loopback addresses', async () => {
    for (const endpoint of [
      'http://169.254.169.254/latest',
      'http://10.0.0.8',
      'http://192.168.1.1:80',
      'http://[::1]:8080',
      'http://localhost:3000',
    ]) {
      const refused = await api('RegisterService', 'POST /services', {
        body: { name: 'sneaky', endpoint, capabilities: ['x'] },
      });
      expect(refused.status, endpoint).toBe(422);
      expect(refused.body.error.issues[0].field).toBe('endpoint');
    }
    expect(
      (await api('ListServices', 'GET /services')).body.services.map((s: { name: string }) => s.name),
    ).not.toContain('sneaky');
  });

  it('manages modules with dependency rules over HTTP', async () => {
    await api('RegisterModule', 'POST /modules', {
      body: { name: 'database-connector', category: 'infrastructure', enabled: true },
    });
    await api('RegisterModule', 'POST /modules', {
      body: { name: 'email-ai', category: 'business', dependencies: ['database-connector'], enabled: true },
    });
    await api('RegisterModule', 'POST /modules', {
      body: { name: 'finance-ai', category: 'business', dependencies: ['database-connector'], enabled: true },
    });
    const refused = await api('DisableModule', 'POST /modules/{name}/disable', {
      path: { name: 'database-connector' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe('Required by email-ai, finance-ai');
    expect(
      (await api('DisableModule', 'POST /modules/{name}/disable', { path: { name: 'email-ai' } })).body
        .enabled,
    ).toBe(false);
    const business = await api('ListModules', 'GET /modules', {
      query: { category: 'business', enabled: 'true' },
    });
    expect(business.body.modules.map((m: { name: string }) => m.name)).toEqual(['finance-ai']);
    const disabled = await api('ListModules', 'GET /modules', { query: { enabled: 'false' } });
    expect(disabled.body.modules.map((m: { name: string }) => m.name)).toEqual(['email-ai']);
    expect(
      (await api('EnableModule', 'POST /modules/{name}/enable', { path: { name: 'email-ai' } })).body.enabled,
    ).toBe(true);
    expect((await api('ModuleHealth', 'GET /modules/health')).body).toEqual({
      totalModules: 3,
      enabled: 3,
      disabled: 0,
      healthy: 3,
      degraded: 0,
      unhealthy: 0,
    });
    const cycle = await api('RegisterModule', 'POST /modules', {
      body: { name: 'database-connector', category: 'infrastructure', dependencies: ['email-ai'] },
    });
    expect(cycle.status).toBe(422);
    expect(cycle.body.error.message).toMatch(
      /dependency cycle: database-connector -> email-ai -> database-connector/,
    );
  });

  it('creates and reads contexts', async () => {
    const created = await api('CreateContext', 'POST /contexts', {
      body: { id: 'campaign_2024', data: { campaign_name: 'Q1 Launch' } },
    });
    expect(created.status).toBe(201);
    expect(
      (await api('GetContext', 'GET /contexts/{contextId}', { path: { contextId: 'campaign_2024' } })).body
        .data,
    ).toEqual({
      campaign_name: 'Q1 Launch',
    });
    expect((await api('CreateContext', 'POST /contexts', { body: { id: 'campaign_2024' } })).status).toBe(
      409,
    );
    expect(
      (await api('GetContext', 'GET /contexts/{contextId}', { path: { contextId: 'nope' } })).status,
    ).toBe(404);
  });

  it('runs the daily analysis and takes suggestion decisions over HTTP, never applying one', async () => {
    for (let i = 0; i < 12; i++) {
      await stack.orchestrator.brain.learn(
        callOutcome(
          `img-${i}`,
          'image_generation',
          'media-factory',
          900,
          i % 2 === 0 ? undefined : 'gpu lost',
        ),
      );
    }
    const analysis = (await invoke('AnalyzePerformance', scheduledEvent('vobee-daily-analysis'))) as {
      found: number;
      created: number;
    };
    expect(analysis.created).toBeGreaterThan(0);
    const listed = await api('ListSuggestions', 'GET /suggestions', { query: { priority: 'critical' } });
    const suggestion = listed.body.suggestions[0];
    expect(suggestion).toMatchObject({ area: 'failure_rate', autoApply: false, status: 'pending' });
    const accepted = await api('AcceptSuggestion', 'POST /suggestions/{id}/accept', {
      path: { id: suggestion.id },
      body: { decidedBy: 'ops' },
    });
    expect(accepted.body.status).toBe('accepted');
    const impact = await api('RecordImpact', 'POST /suggestions/{id}/impact', {
      path: { id: suggestion.id },
      body: { before: { failureRate: 0.5 }, after: { failureRate: 0.1 } },
    });
    expect(impact.body.impact.metrics.failureRate).toEqual({
      before: 0.5,
      after: 0.1,
      improvement: 0.8,
      improved: true,
    });
    const again = await api('RejectSuggestion', 'POST /suggestions/{id}/reject', {
      path: { id: suggestion.id },
      body: { decidedBy: 'ops' },
    });
    expect(again.status).toBe(409);
    const report = await api('ImprovementReport', 'GET /improvement/report');
    expect(report.body.byStatus.implemented).toBe(1);
    expect(
      (await api('ListSuggestions', 'GET /suggestions', { query: { status: 'implemented' } })).body
        .suggestions,
    ).toHaveLength(1);
    expect(
      (await api('ListServices', 'GET /services')).body.services.find(
        (s: { name: string }) => s.name === 'media-factory',
      ).enabled,
    ).toBe(true);
  });

  it('reports routing statistics, memory and performance', async () => {
    // Routes are counted with the first call of each routed task, as the worker writes it.
    await stack.orchestrator.routing.stats.recordCalls([
      {
        taskType: 'generate_image',
        service: 'media-factory',
        success: true,
        timedOut: false,
        latencyMs: 40,
        at: new Date().toISOString(),
        routedBy: 'capability',
      },
    ]);
    expect((await api('RoutingStats', 'GET /routing/stats')).body).toMatchObject({
      totalRoutes: 1,
      serviceDistribution: { 'media-factory': 1 },
      strategyDistribution: { capability: 1 },
    });
    expect((await api('MemorySummary', 'GET /memory/summary')).body).toMatchObject({
      shortTermCount: 12,
      longTermTypes: 2,
    });
    expect((await api('PerformanceSummary', 'GET /performance')).body).toMatchObject({
      totalDecisions: 1,
      taskTypesLearned: 2,
    });
  });

  it('answers malformed requests with 4xx naming the field', async () => {
    const missing = await api('SubmitTask', 'POST /tasks', { body: { priority: 'urgent' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      'body.priority',
      'body.type',
    ]);
    const notJson = await api('SubmitTask', 'POST /tasks', { rawBody: '{"type": ' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.type).toBe('BadRequest');
    const wrongType = await api('SubmitTask', 'POST /tasks', {
      rawBody: 'type=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(415);
    const query = await api('ListServices', 'GET /services', { query: { colour: 'red' } });
    expect(query.status).toBe(400);
    expect(query.body.error.message).toMatch(/^query: /);
    const badPath = await api('GetTask', 'GET /tasks/{taskId}', { path: { taskId: 'a b' } });
    expect(badPath.status).toBe(400);
    expect(badPath.body.error.issues[0].field).toBe('path.taskId');
    const unknownContext = await api('SubmitTask', 'POST /tasks', { body: { type: 'x', contextId: 'nope' } });
    expect(unknownContext.status).toBe(422);
    expect(unknownContext.body.error.message).toBe("contextId: context 'nope' not found");
    expect((await api('GetTask', 'GET /tasks/{taskId}', { path: { taskId: 'never' } })).status).toBe(404);
  });
});

describe('intake and schedules', () => {
  it('submits tasks from SQS messages and TaskRequested events, once each, reporting only bad messages as failures', async () => {
    const stack = await createServingStack(backend);
    const factory = await startFactory(() => ({ status: 200, body: { status: 'ok', output: 'sent' } }));
    try {
      await stack.orchestrator.services.register({
        name: 'email-ai',
        endpoint: factory.endpoint,
        capabilities: ['email_campaign'],
      });
      const event = taskRequestedEvent({ type: 'email_campaign', parameters: { subject: 'Hello' } }, 'evt-1');
      const plain = sqsRecord({ id: 'plain-1', type: 'email_campaign' });
      const bad = sqsRecord('{not json');
      const invalid = sqsRecord({ type: 'email campaign!' });
      const first = (await invoke(
        'TaskIntake',
        sqsEvent([sqsRecord(event), plain, bad, invalid]),
      )) as SQSBatchResponse;
      expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
        [bad.messageId, invalid.messageId].sort(),
      );
      // The same event delivered again (a new SQS message) and the same message redelivered: nothing new.
      const second = (await invoke('TaskIntake', sqsEvent([sqsRecord(event), plain]))) as SQSBatchResponse;
      expect(second.batchItemFailures).toEqual([]);
      await waitForTask(stack.orchestrator, 'plain-1');
      expect(factory.calls.filter((c) => c.taskId === 'plain-1')).toHaveLength(1);
      // The event's task runs too, exactly once.
      for (let i = 0; i < 100 && factory.calls.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(factory.calls.map((c) => c.parameters)).toContainEqual({ subject: 'Hello' });
      expect(factory.calls).toHaveLength(2);
    } finally {
      await factory.close();
    }
  });

  it('probes service health on schedule', async () => {
    const stack = await createServingStack(backend);
    const healthy = await startFactory(() => ({ status: 200, body: {} }), { status: { status: 'healthy' } });
    try {
      await stack.orchestrator.services.register({
        name: 'up',
        endpoint: healthy.endpoint,
        capabilities: ['x'],
        health: 'degraded',
      });
      await stack.orchestrator.services.register({
        name: 'down',
        endpoint: 'http://127.0.0.1:9',
        capabilities: ['x'],
      });
      const summary = (await invoke('ProbeHealth', scheduledEvent('vobee-probe'))) as {
        probed: number;
        changed: number;
      };
      expect(summary).toMatchObject({ probed: 2, changed: 2 });
      expect((await stack.orchestrator.services.get('up')).health).toBe('healthy');
      expect(await stack.orchestrator.services.get('down')).toMatchObject({
        health: 'unhealthy',
        healthReason: expect.stringMatching(/^probe failed/),
      });
    } finally {
      await healthy.close();
    }
  });
});
