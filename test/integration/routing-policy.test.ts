import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactory } from '../helpers/factory-server.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
type Factory = Awaited<ReturnType<typeof startFactory>>;

const ok = { status: 200, body: { status: 'succeeded', output: { done: true } } };

/** Versioned routing policies through the API, on the local runtime with real factories. */
describe('routing policy versions', () => {
  let runtime: Runtime;
  const factories: Record<string, Factory> = {};

  beforeAll(async () => {
    // Routing re-reads the active policy's pointer every 200 ms here (3 s at most by default).
    runtime = await startTestRuntime({ routingCacheMs: 200 });
    let flaky = 0;
    factories.media = await startFactory(() => ok);
    factories.research = await startFactory(() => ok);
    // Fails twice for each task, then succeeds.
    factories.flaky = await startFactory(() => (++flaky % 3 === 0 ? ok : { status: 500, body: {} }));
    const register = (name: string, body: Record<string, unknown>) =>
      runtime.api.post('/services', { name, endpoint: factories[name]?.endpoint, ...body });
    expect((await register('media', { factoryType: 'media', capabilities: ['generate'] })).status).toBe(201);
    expect((await register('research', { factoryType: 'research', capabilities: ['generate'] })).status).toBe(
      201,
    );
    expect((await register('flaky', { capabilities: ['fragile'] })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(factories).map((f) => f.close()));
    await runtime?.stop(1_000);
  });

  const contentPolicy = (target: string) => ({
    defaultStrategy: 'content',
    rules: [{ id: 'video', name: 'Video work', when: { keywordsAny: ['video'] }, target, priority: 50 }],
    defaultTarget: 'research',
  });

  async function run(id: string, task: Record<string, unknown>) {
    const submitted = await runtime.api.post('/tasks', { id, ...task });
    expect(submitted.status).toBe(202);
    return runtime.api.until(`/tasks/${id}`, (t) => t.status === 'SUCCEEDED' || t.status === 'FAILED');
  }

  it('starts on the built-in policy, version 0', async () => {
    const { status, body } = await runtime.api.get('/routing/policy');
    expect(status).toBe(200);
    expect(body).toMatchObject({ version: 0, source: 'built-in', policy: { defaultStrategy: 'capability' } });
    expect((await runtime.api.get('/routing/policies')).body).toEqual({ active: 0, versions: [] });
  });

  it('refuses a malformed policy with the field named, and stores nothing', async () => {
    const bad = await runtime.api.put('/routing/policy', {
      changedBy: 'ana',
      policy: { defaultStrategy: 'fastest' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('policy.defaultStrategy');
    const twice = await runtime.api.put('/routing/policy', {
      changedBy: 'ana',
      policy: { rules: [contentPolicy('media').rules[0], contentPolicy('media').rules[0]] },
    });
    expect(twice.status).toBe(400);
    expect(JSON.stringify(twice.body)).toContain('policy.rules.1.id');
    const limits = await runtime.api.put('/routing/policy', {
      changedBy: 'ana',
      policy: { limits: { media: {} } },
    });
    expect(limits.status).toBe(400);
    expect(JSON.stringify(limits.body)).toContain('policy.limits.media');
    const unknown = await runtime.api.post('/routing/policies/99/activate', { changedBy: 'ana' });
    expect(unknown.status).toBe(404);
    expect((await runtime.api.get('/routing/policies')).body.versions).toEqual([]);
  });

  it('routes by content rules and the default target once a policy with them is active', async () => {
    const stored = await runtime.api.put('/routing/policy', {
      changedBy: 'ana',
      reason: 'video work to media',
      policy: contentPolicy('media'),
      activate: true,
    });
    expect(stored.status).toBe(201);
    expect(stored.body).toMatchObject({ version: 1, active: true, createdBy: 'ana' });
    await waitForVersion(1);
    const video = await run('rule-video', { type: 'generate', keywords: ['Video', 'teaser'] });
    expect(video.status).toBe('SUCCEEDED');
    expect(video.route).toMatchObject({
      strategy: 'content',
      primary: 'media',
      policyVersion: 1,
      rule: { id: 'video', priority: 50 },
    });
    const other = await run('rule-default', { type: 'generate', keywords: ['essay'] });
    expect(other.route).toMatchObject({ primary: 'research', policyVersion: 1 });
    expect(other.route.reason).toContain('default target research');
  });

  it('retries with the linear back-off a policy sets for a task type', async () => {
    const policy = {
      ...contentPolicy('media'),
      defaultStrategy: 'capability',
      retry: { byTaskType: { fragile: { backoff: 'linear', maxRetries: 3, baseDelaySeconds: 0.01 } } },
    };
    const stored = await runtime.api.put('/routing/policy', { changedBy: 'ana', policy, activate: true });
    expect(stored.status).toBe(201);
    await waitForVersion(stored.body.version);
    const task = await run('linear-retry', { type: 'fragile' });
    expect(task.status).toBe('SUCCEEDED');
    expect(task.route.retryPolicy).toMatchObject({ backoff: 'linear', maxRetries: 3 });
    expect(task.route.retrySchedule).toEqual([0.01, 0.02, 0.03]);
    expect(task.attempts.map((a: { outcome: string }) => a.outcome)).toEqual([
      'failed',
      'failed',
      'succeeded',
    ]);
    // Other task types keep the default exponential back-off.
    const plain = await run('default-retry', { type: 'generate' });
    expect(plain.route.retryPolicy.backoff).toBe('exponential');
  });

  it('switches versions and rolls back while tasks run, each decision naming its version', async () => {
    const toMedia = await runtime.api.put('/routing/policy', {
      changedBy: 'ana',
      policy: contentPolicy('media'),
      activate: true,
    });
    const toResearch = await runtime.api.put('/routing/policy', {
      changedBy: 'ben',
      reason: 'media is saturated',
      policy: contentPolicy('research'),
    });
    expect(toResearch.body).toMatchObject({ active: false }); // a draft
    await waitForVersion(toMedia.body.version);

    const ids: string[] = [];
    let n = 0;
    const submitting = (async () => {
      for (const stop = Date.now() + 3_000; Date.now() < stop; n++) {
        const id = `switch-${n}`;
        ids.push(id);
        await runtime.api.post('/tasks', { id, type: 'generate', keywords: ['video'] });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 700));
    const switched = await runtime.api.post(`/routing/policies/${toResearch.body.version}/activate`, {
      changedBy: 'ben',
    });
    expect(switched.body).toMatchObject({ version: toResearch.body.version, source: 'stored' });
    await new Promise((r) => setTimeout(r, 1_200));
    const rolledBack = await runtime.api.post(`/routing/policies/${toMedia.body.version}/activate`, {
      changedBy: 'ana',
      reason: 'roll back',
    });
    expect(rolledBack.status).toBe(200);
    await submitting;

    const tasks = await Promise.all(
      ids.map((id) => runtime.api.until(`/tasks/${id}`, (t) => t.status === 'SUCCEEDED')),
    );
    const versions = tasks.map((t) => t.route.policyVersion as number);
    // Every decision went where the version it names sends video work.
    for (const t of tasks) {
      expect(t.route.primary).toBe(t.route.policyVersion === toResearch.body.version ? 'research' : 'media');
    }
    // Both versions routed, in the order they were active: media, research, then media again.
    const runs = versions.filter((v, i) => i === 0 || v !== versions[i - 1]);
    expect(runs).toEqual([toMedia.body.version, toResearch.body.version, toMedia.body.version]);

    const history = (await runtime.api.get('/routing/policies')).body;
    expect(history.active).toBe(toMedia.body.version);
    const media = history.versions.find((v: { version: number }) => v.version === toMedia.body.version);
    expect(media.activations.map((a: { by: string }) => a.by)).toEqual(['ana', 'ana']);
    expect(history.versions.map((v: { version: number }) => v.version)).toEqual(
      [...history.versions.map((v: { version: number }) => v.version)].sort((a, b) => b - a),
    );
  }, 30_000);

  it('turns an accepted routing suggestion into a draft version, linked both ways, and activates nothing', async () => {
    const activeBefore = (await runtime.api.get('/routing/policy')).body.version;
    const down = await runtime.api.put('/services/research/health', {
      health: 'unhealthy',
      reason: 'probe failed',
    });
    expect(down.status).toBe(200);
    const analysed = await runtime.api.post('/local/schedules/AnalyzePerformance/run', {});
    expect(analysed.status, JSON.stringify(analysed.body)).toBeLessThan(300);
    const listed = (await runtime.api.get('/suggestions?status=pending')).body.suggestions;
    const suggestion = listed.find((s: { title: string }) => s.title === 'research is unhealthy');
    expect(suggestion?.proposedAction.type).toBe('disable_service');

    const accepted = await runtime.api.post(`/suggestions/${suggestion.id}/accept`, { decidedBy: 'ana' });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', policyVersion: expect.any(Number) });
    const draft = (await runtime.api.get(`/routing/policies/${accepted.body.policyVersion}`)).body;
    expect(draft).toMatchObject({
      suggestionId: suggestion.id,
      createdBy: 'ana',
      active: false,
      activations: [],
    });
    expect(draft.policy.ejected.research.reason).toContain(suggestion.id);
    // Made from the active policy: everything else is as it was.
    const { ejected: _e, ...rest } = draft.policy;
    const { ejected: _a, ...activeRest } = (await runtime.api.get('/routing/policy')).body.policy;
    expect(rest).toEqual(activeRest);
    expect((await runtime.api.get('/routing/policy')).body.version).toBe(activeBefore);

    await runtime.api.put('/services/research/health', { health: 'healthy' });
  });

  /** Waits until new decisions are made under `version` (workers re-read the pointer on a timer). */
  async function waitForVersion(version: number) {
    await new Promise((r) => setTimeout(r, 300));
    expect((await runtime.api.get('/routing/policy')).body.version).toBe(version);
  }
});
