import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { sink } from '../helpers/fake-api.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;

const TASKS = 160;

/**
 * Replay on decisions the local runtime recorded: logged under random routing (each of two
 * services with probability 1/2), then evaluated for policies that would send everything to one.
 */
describe('routing replay', () => {
  let runtime: Runtime;
  const factories: Array<Awaited<ReturnType<typeof startFactory>>> = [];

  const only = (target: string) => ({
    defaultStrategy: 'content',
    rules: [{ id: 'all', name: 'everything', when: { taskTypes: ['summarize'] }, target }],
  });

  beforeAll(async () => {
    runtime = await startTestRuntime({ routingCacheMs: 100 });
    const steady = await startFactory(() => ({ status: 200, body: { status: 'succeeded', output: 1 } }));
    // Fails every fourth call it gets: a 0.75 success rate.
    const shaky = await startFactory((_call, n) =>
      n % 4 === 0 ? { status: 500, body: {} } : { status: 200, body: { status: 'succeeded', output: 2 } },
    );
    factories.push(steady, shaky);
    await runtime.api.post('/services', {
      name: 'steady',
      endpoint: steady.endpoint,
      factoryType: 'writing',
      capabilities: ['summarize'],
      costPerCall: 0.02,
    });
    await runtime.api.post('/services', {
      name: 'shaky',
      endpoint: shaky.endpoint,
      factoryType: 'writing',
      capabilities: ['summarize'],
      costPerCall: 0.005,
    });
    const logging = await runtime.api.put('/routing/policy', {
      changedBy: 'ops',
      policy: { defaultStrategy: 'random', retry: { default: { maxRetries: 0 } } },
      activate: true,
    });
    expect(logging.status).toBe(201);
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < TASKS; i += 40) {
      const batch = Array.from({ length: 40 }, (_, j) => `replay-${i + j}`);
      await Promise.all(batch.map((id) => runtime.api.post('/tasks', { id, type: 'summarize' })));
      await Promise.all(
        batch.map((id) =>
          runtime.api.until(`/tasks/${id}`, (t) => t.status === 'SUCCEEDED' || t.status === 'FAILED'),
        ),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(factories.map((f) => f.close()));
    await runtime?.stop(1_000);
  });

  it('logs each decision with the probability its policy gave the choice', async () => {
    const task = (await runtime.api.get('/tasks/replay-0')).body;
    // After a failover the route names the fallback; the logged choice stays the first one.
    const first = task.route.tried[0] ?? task.route.primary;
    expect(task.route.logged).toEqual({
      candidates: expect.arrayContaining(['steady', 'shaky']),
      chosen: first,
      propensity: 0.5,
    });
    expect(task.route.candidates.map((c: { probability: number }) => c.probability)).toEqual([0.5, 0.5]);
  });

  it('estimates a policy that sends everything to one service, with an interval that covers the truth', async () => {
    const steadyOnly = await runtime.api.post('/routing/replay', { policy: only('steady') });
    expect(steadyOnly.status).toBe(200);
    const report = steadyOnly.body;
    expect(report.tasksRead).toBe(TASKS);
    expect(report.estimate.decisions).toBe(TASKS);
    expect(report.estimate.supported).toBe(true);
    // About half the decisions chose steady, each weighing 2: the effective sample size is about 80.
    expect(report.estimate.overlapping).toBeGreaterThan(50);
    expect(report.estimate.effectiveSampleSize).toBeGreaterThan(50);
    expect(report.estimate.successRate.high).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(report.estimate.successRate.estimate).toBeGreaterThan(0.95);
    expect(report.estimate.meanCostUsd.estimate).toBeCloseTo(0.02, 6);

    const shakyOnly = (
      await runtime.api.post('/routing/replay', { policy: only('shaky'), estimator: 'snips' })
    ).body;
    const { low, high, estimate } = shakyOnly.estimate.successRate;
    expect(low).toBeLessThanOrEqual(0.75);
    expect(high).toBeGreaterThanOrEqual(0.75);
    expect(estimate).toBeLessThan(report.estimate.successRate.estimate);
    expect(shakyOnly.estimate.meanCostUsd.estimate).toBeCloseTo(0.005, 6);
    expect(Object.keys(shakyOnly.byEstimator).sort()).toEqual(['dr', 'ips', 'snips']);
  });

  it('replays a stored version, and says plainly when the data cannot support an estimate', async () => {
    const stored = await runtime.api.put('/routing/policy', { changedBy: 'ana', policy: only('steady') });
    const byVersion = await runtime.api.post('/routing/replay', { version: stored.body.version });
    expect(byVersion.body.target).toEqual({ version: stored.body.version, inline: false });
    expect(byVersion.body.estimate.supported).toBe(true);

    await runtime.api.post('/services', {
      name: 'newcomer',
      endpoint: 'http://127.0.0.1:9',
      capabilities: ['summarize'],
    });
    const unseen = (await runtime.api.post('/routing/replay', { policy: only('newcomer') })).body;
    expect(unseen.estimate.supported).toBe(false);
    expect(unseen.estimate.overlapping).toBe(0);
    expect(unseen.estimate.reason).toMatch(/\w/);

    const empty = (await runtime.api.post('/routing/replay', { policy: only('steady'), until: '2020-01-01' }))
      .body;
    expect(empty.estimate.decisions).toBe(0);
    expect(empty.estimate.supported).toBe(false);

    const both = await runtime.api.post('/routing/replay', { version: 1, policy: only('steady') });
    expect(both.status).toBe(400);
    const unknown = await runtime.api.post('/routing/replay', { version: 999 });
    expect(unknown.status).toBe(404);
  });

  it('sets, activates, lists and replays policies from the CLI', async () => {
    const vobee = async (argv: string[], files: Record<string, string> = {}) => {
      const stdout = sink();
      const stderr = sink();
      const code = await main(['--endpoint', runtime.apiUrl, ...argv], {
        stdout,
        stderr,
        env: {},
        readFile: (path) => {
          const text = files[path];
          if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
          return text;
        },
      });
      return { code, out: stdout.text, err: stderr.text };
    };
    const file = { 'steady.json': JSON.stringify(only('steady')) };
    const set = await vobee(
      ['routing', 'policy', 'set', 'steady.json', '--by', 'cli-user', '--reason', 'try it'],
      file,
    );
    expect(set.code).toBe(0);
    const version = Number(/version (\d+) as a draft/.exec(set.out)?.[1]);
    expect(version).toBeGreaterThan(1);
    const replayed = await vobee(['routing', 'replay', '--version', String(version)]);
    expect(replayed.code).toBe(0);
    expect(replayed.out).toContain(`Replay of version ${version} on ${TASKS} recorded decisions`);
    expect(replayed.out).toMatch(/success +\d+\.\d% \(95% CI/);
    expect(replayed.out).toContain('Active policy: version 1 (stored).');

    const history = await vobee(['routing', 'policy', 'history']);
    expect(history.out).toContain('cli-user');
    expect(history.out).toMatch(/1 \*/);
    expect((await vobee(['routing', 'policy', 'activate', String(version), '--by', 'cli-user'])).code).toBe(
      0,
    );
    const shown = await vobee(['routing', 'policy', 'show']);
    expect(shown.out).toContain(`Active policy: version ${version} (stored)`);
    expect(shown.out).toContain('[10] all: everything -> steady');
    // Back to the logging policy, as the rest of the suite expects.
    expect((await vobee(['routing', 'policy', 'activate', '1', '--by', 'cli-user'])).code).toBe(0);

    const bad = await vobee(['routing', 'policy', 'set', 'bad.json', '--by', 'x'], {
      'bad.json': JSON.stringify({ defaultStrategy: 'fastest' }),
    });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('bad.json: defaultStrategy');
    const neither = await vobee(['routing', 'replay']);
    expect(neither.code).toBe(2);
  });

  it('lists decisions of tasks and workflow steps, failovers included, from what they keep', async () => {
    const template = {
      workflow_id: 'digest',
      name: 'Digest',
      steps: [
        {
          step_id: 'sum',
          name: 'Sum',
          factory_type: 'writing',
          action: 'summarize',
          parameters: { text: 'x' },
        },
      ],
    };
    expect((await runtime.api.post('/workflows', template)).status).toBe(201);
    const started = await runtime.api.post('/workflows/digest/executions', {});
    const run = await runtime.api.until(
      `/executions/${started.body.executionId}`,
      (e) => e.status !== 'RUNNING',
      60_000,
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.steps[0].route).toMatchObject({ taskType: 'summarize', policyVersion: 1 });

    const answer = await runtime.api.get('/decisions?type=summarize&limit=100');
    expect(answer.body).toMatchObject({ decisions: expect.any(Array) });
    const listed = answer.body.decisions;
    expect(listed).toHaveLength(100);
    const times = listed.map((d: { decidedAt: string }) => d.decidedAt);
    expect(times).toEqual([...times].sort().reverse());
    const step = listed.find((d: { source: string }) => d.source === 'step');
    expect(step).toMatchObject({ executionId: started.body.executionId, stepId: 'sum', status: 'SUCCEEDED' });
    const failover = listed.find((d: { failover: boolean }) => d.failover);
    expect(failover).toMatchObject({ chosen: 'shaky', service: 'steady', tried: ['shaky'] });
    expect(failover.reason).toContain('failover from shaky to steady');
    // A first decision shows the chance each candidate had; a failover shows the ones left, re-scored.
    for (const d of listed.filter((x: { failover: boolean }) => !x.failover))
      expect(d.candidates.map((c: { probability: number }) => c.probability)).toEqual([0.5, 0.5]);
    expect(failover.candidates.map((c: { name: string }) => c.name)).toEqual(['steady']);

    const viaShaky = (await runtime.api.get('/decisions?service=shaky&limit=100')).body.decisions;
    expect(viaShaky.length).toBeGreaterThan(0);
    for (const d of viaShaky) expect(d.service === 'shaky' || d.tried.includes('shaky')).toBe(true);
    expect((await runtime.api.get('/decisions?type=nothing_like_it')).body.decisions).toEqual([]);
    const bad = await runtime.api.get('/decisions?limit=0');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('query.limit');
  }, 90_000);
});
