import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactory } from '../helpers/factory-server.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;

/**
 * Budgeted workflow runs on the local runtime: a premium copywriter ($1.00 a call, preferred by
 * routing for its weight) and a budget one ($0.10). A three-step campaign with $1.50 can afford
 * premium once, then only the budget writer; with $0.20 it cannot start.
 */
describe('budgeted workflow runs', () => {
  let runtime: Runtime;
  const factories: Array<Awaited<ReturnType<typeof startFactory>>> = [];

  const campaign = {
    workflow_id: 'campaign',
    name: 'Campaign',
    steps: [
      {
        step_id: 'headline',
        name: 'Headline',
        factory_type: 'copy',
        action: 'write',
        parameters: { part: 'headline' },
      },
      {
        step_id: 'body',
        name: 'Body',
        factory_type: 'copy',
        action: 'write',
        parameters: { part: 'body' },
        dependencies: ['headline'],
      },
      {
        step_id: 'footer',
        name: 'Footer',
        factory_type: 'copy',
        action: 'write',
        parameters: { part: 'footer' },
        dependencies: ['body'],
      },
    ],
  };

  beforeAll(async () => {
    runtime = await startTestRuntime();
    for (const [name, cost, weight] of [
      ['premium', 1, 10],
      ['thrifty', 0.1, 1],
    ] as const) {
      const factory = await startFactory((call) => ({
        status: 200,
        body: { status: 'succeeded', output: { by: name, part: call.parameters.part } },
      }));
      factories.push(factory);
      const registered = await runtime.api.post('/services', {
        name,
        endpoint: factory.endpoint,
        factoryType: 'copy',
        capabilities: ['write'],
        costPerCall: cost,
        weight,
      });
      expect(registered.status).toBe(201);
    }
    expect((await runtime.api.post('/workflows', campaign)).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(factories.map((f) => f.close()));
    await runtime?.stop(1_000);
  });

  const ended = (e: { status: string }) => e.status !== 'RUNNING';

  it('spends on premium while the rest still fits, then switches to the cheaper service', async () => {
    const started = await runtime.api.post('/workflows/campaign/executions', {
      budget: { max_cost_usd: 1.5 },
    });
    expect(started.status).toBe(202);
    const run = await runtime.api.until(`/executions/${started.body.executionId}`, ended, 60_000);
    expect(run.status).toBe('SUCCEEDED');
    const by = Object.fromEntries(
      run.steps.map((s: { stepId: string; service: string }) => [s.stepId, s.service]),
    );
    expect(by).toEqual({ headline: 'premium', body: 'thrifty', footer: 'thrifty' });
    expect(run.costUsd).toBeCloseTo(1.2, 6);
    expect(run.costUsd).toBeLessThanOrEqual(1.5);
    // The later steps were routed among what the budget allowed, and say so.
    const body = run.steps.find((s: { stepId: string }) => s.stepId === 'body');
    expect(body.route.allowed).toEqual(['thrifty']);

    // Without a budget the same campaign goes premium all the way.
    const free = await runtime.api.post('/workflows/campaign/executions', {});
    const unbudgeted = await runtime.api.until(`/executions/${free.body.executionId}`, ended, 60_000);
    expect(unbudgeted.steps.map((s: { service: string }) => s.service)).toEqual([
      'premium',
      'premium',
      'premium',
    ]);
    expect(unbudgeted.costUsd).toBeCloseTo(3, 6);
  });

  it('refuses a budget that cannot be kept from the start, naming the limit, and starts nothing', async () => {
    const before = (await runtime.api.get('/executions?workflowId=campaign')).body.executions.length;
    const refused = await runtime.api.post('/workflows/campaign/executions', {
      budget: { max_cost_usd: 0.2 },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.issues[0].field).toBe('budget.max_cost_usd');
    expect(refused.body.error.message).toMatch(/\$?0\.3/);
    expect((await runtime.api.get('/executions?workflowId=campaign')).body.executions).toHaveLength(before);

    const malformed = await runtime.api.post('/workflows/campaign/executions', { budget: {} });
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('budget');
    const negative = await runtime.api.post('/workflows/campaign/executions', {
      budget: { max_cost_usd: -1 },
    });
    expect(negative.status).toBe(400);
    expect(JSON.stringify(negative.body)).toContain('budget.max_cost_usd');
  });

  it('fails a run with BudgetExceeded before it overspends when calls cost more than declared', async () => {
    // Declared at $0.10 a call, the printer reports $0.30: after the first step the rest no longer fits.
    const printer = await startFactory(() => ({
      status: 200,
      body: { status: 'succeeded', output: 'ok', cost: 0.3 },
    }));
    factories.push(printer);
    await runtime.api.post('/services', {
      name: 'printer',
      endpoint: printer.endpoint,
      factoryType: 'ink',
      capabilities: ['print'],
      costPerCall: 0.1,
    });
    const steps = campaign.steps.map((step) => ({ ...step, factory_type: 'ink', action: 'print' }));
    expect(
      (await runtime.api.post('/workflows', { workflow_id: 'leaflet', name: 'Leaflet', steps })).status,
    ).toBe(201);
    const started = await runtime.api.post('/workflows/leaflet/executions', {
      budget: { max_cost_usd: 0.5 },
    });
    expect(started.status).toBe(202);
    const run = await runtime.api.until(`/executions/${started.body.executionId}`, ended, 60_000);
    expect(run.status).toBe('FAILED');
    expect(JSON.stringify(run.error)).toContain('BudgetExceeded');
    const status = Object.fromEntries(
      run.steps.map((s: { stepId: string; status: string }) => [s.stepId, s.status]),
    );
    expect(status.headline).toBe('SUCCEEDED');
    expect(status.body).toBe('FAILED');
    expect(run.steps.find((s: { stepId: string }) => s.stepId === 'body').error).toMatch(
      /^BudgetExceeded: .*\$/,
    );
    // Nothing was called once the budget could not be kept: one call, $0.30 of $0.50.
    expect(printer.calls).toHaveLength(1);
    expect(run.costUsd).toBeCloseTo(0.3, 6);
  });
});
