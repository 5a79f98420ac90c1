import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord } from '../../lib/core/workflow/workflow-records.ts';
import type { RunningExampleFactory } from '../../lib/local/factories/index.ts';
import { startExampleFactory } from '../../lib/local/factories/index.ts';
import { seedExamples, seedWorkflows } from '../../lib/local/seed.ts';
import { startFactory } from '../helpers/factory-server.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
const ended = (b: { status: string }) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(b.status);
const step = (b: { steps: StepRecord[] }, id: string) => b.steps.find((s) => s.stepId === id) as StepRecord;

describe('workflows on the local runtime', () => {
  let runtime: Runtime;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    runtime = await startTestRuntime();
    // Research answers after 150 ms, so that independent steps visibly overlap.
    const factories: RunningExampleFactory[] = [
      await startExampleFactory('media'),
      await startExampleFactory('research', { latencyMs: { kind: 'fixed', ms: 150 } }),
    ];
    for (const f of factories) closers.push(() => f.close());
    await seedExamples(runtime.orchestrator, factories);
    await seedWorkflows(runtime.orchestrator);
  });
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    await runtime.stop(1_000);
  });

  it('runs the Product Launch Campaign: independent steps overlap, outputs flow to dependents', async () => {
    const { api } = runtime;
    const started = await api.post('/workflows/product-launch-campaign/executions', {
      input: { launch: 'Q1' },
    });
    expect(started.status).toBe(202);
    const done = await api.until(`/executions/${started.body.executionId}`, ended);
    expect(done.status).toBe('SUCCEEDED');
    expect(Object.keys(done.results).sort()).toEqual([
      'discover_trends',
      'generate_images',
      'generate_video',
      'research_market',
    ]);
    for (const s of done.steps) expect(s).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });

    const research = step(done, 'research_market');
    const trends = step(done, 'discover_trends');
    const images = step(done, 'generate_images');
    // Both research steps ran at the same time; images waited for market research.
    expect(Date.parse(trends.startedAt as string)).toBeLessThan(Date.parse(research.endedAt as string));
    expect(Date.parse(research.startedAt as string)).toBeLessThan(Date.parse(trends.endedAt as string));
    expect(Date.parse(images.startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(research.endedAt as string),
    );

    // generate_images received the market summary through its {{steps...}} reference.
    const summary = (done.results.research_market as { summary: string }).summary;
    expect(summary.length).toBeGreaterThan(10);
    // The two PNGs are above the inline limit: the images travel as one JSON artifact, and the
    // example media factory writes the brief into each image's description.
    const kept = done.results.generate_images as { artifact: { id: string; mimeType: string } };
    expect(kept.artifact.mimeType).toBe('application/json');
    const stored = await fetch(`${runtime.apiUrl}/artifacts/${kept.artifact.id}`);
    const rendered = ((await stored.json()) as { images: Array<{ data: string }> }).images;
    expect(rendered).toHaveLength(2);
    const brief = `Market insight: ${summary}`.slice(0, 500);
    expect(Buffer.from(rendered[0]?.data ?? '', 'base64').toString('latin1')).toContain(`Brief: ${brief}`);
    expect(step(done, 'generate_images').service).toBe('media-factory');
    // The video read those images through their reference and was uploaded by the factory.
    const video = (
      done.results.generate_video as { video: { artifact: { mimeType: string; bytes: number } } }
    ).video.artifact;
    expect(video.mimeType).toBe('video/x-yuv4mpeg');
    expect(video.bytes).toBeGreaterThan(1_000_000);
  });

  it('runs Generate Image and Analyze Market in order', async () => {
    const { api } = runtime;
    const started = await api.post('/workflows/generate-and-analyze/executions', {});
    const done = await api.until(`/executions/${started.body.executionId}`, ended);
    expect(done.status).toBe('SUCCEEDED');
    expect(Date.parse(step(done, 'step2').startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(step(done, 'step1').endedAt as string),
    );
    expect((done.results.step1 as { images?: unknown[]; format?: string }).format ?? 'svg').toBe('svg');
  });

  it('retries a failing step, then routes it to a fallback', async () => {
    const { api, orchestrator } = runtime;
    const broken = await startFactory(() => ({ status: 500, body: { error: 'gpu on fire' } }));
    let calls = 0;
    const flaky = await startFactory(() =>
      ++calls === 1
        ? { status: 503, body: { error: 'warming up' } }
        : { status: 200, body: { status: 'ok', output: { score: 0.9 } } },
    );
    closers.push(broken.close, flaky.close);
    await orchestrator.services.register({
      name: 'scorer-a',
      endpoint: broken.endpoint,
      factoryType: 'scoring',
      capabilities: ['score'],
      weight: 5,
    });
    await orchestrator.services.register({
      name: 'scorer-b',
      endpoint: flaky.endpoint,
      factoryType: 'scoring',
      capabilities: ['score'],
      weight: 1,
    });
    const registered = await api.post('/workflows', {
      workflow_id: 'scoring',
      name: 'Scoring',
      steps: [{ step_id: 'score', name: 'Score', factory_type: 'scoring', action: 'score', retries: 2 }],
    });
    expect(registered.status).toBe(201);
    const started = await api.post('/workflows/scoring/executions', {});
    const done = await api.until(`/executions/${started.body.executionId}`, ended);
    expect(done.status).toBe('SUCCEEDED');
    // Attempt 1: scorer-a fails, the fallback scorer-b fails too; attempt 2 (a Retry): scorer-b succeeds.
    expect(step(done, 'score')).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 2,
      service: 'scorer-b',
      output: { score: 0.9 },
    });
    expect(broken.calls.length).toBe(2);
    expect(flaky.calls.length).toBe(2);
  });

  it('holds new steps while paused and finishes after resume', async () => {
    const { api } = runtime;
    const started = await api.post('/workflows/product-launch-campaign/executions', {});
    const id = started.body.executionId;
    const paused = await api.post(`/executions/${id}/pause`);
    expect(paused.body).toMatchObject({ status: 'PAUSED' });
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('PAUSED');
    // Well past the research steps' 150 ms: nothing after them may have started.
    await new Promise((r) => setTimeout(r, 800));
    const held = (await api.get(`/executions/${id}`)).body;
    expect(held.status).toBe('PAUSED');
    // Steps that came due while paused wait; none ran.
    const images = held.steps.find((s: StepRecord) => s.stepId === 'generate_images');
    expect(images === undefined || images.status === 'WAITING').toBe(true);
    expect(held.steps.map((s: StepRecord) => s.stepId)).not.toContain('generate_video');
    expect((await api.post(`/executions/${id}/pause`)).status).toBe(409);
    const resumed = await api.post(`/executions/${id}/resume`);
    expect(resumed.body.status).toBe('RUNNING');
    const done = await api.until(`/executions/${id}`, ended);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps).toHaveLength(4);
  });

  it('cancels a run: it ends CANCELLED and starts nothing more', async () => {
    const { api } = runtime;
    const started = await api.post('/workflows/product-launch-campaign/executions', {});
    const id = started.body.executionId;
    const cancelled = await api.post(`/executions/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    await new Promise((r) => setTimeout(r, 400));
    const after = (await api.get(`/executions/${id}`)).body;
    expect(after.status).toBe('CANCELLED');
    expect(after.steps.map((s: StepRecord) => s.stepId)).not.toContain('generate_video');
    expect((await api.post(`/executions/${id}/resume`)).status).toBe(409);
  });

  it('completes a callback step when the factory calls back, and fails it when none comes in time', async () => {
    const { api, orchestrator } = runtime;
    const slowMedia = await startExampleFactory('media', {
      name: 'render-farm',
      async: true,
      latencyMs: { kind: 'fixed', ms: 100 },
    });
    const silent = await startFactory(() => ({ status: 202, body: { status: 'accepted' } }));
    closers.push(() => slowMedia.close(), silent.close);
    await orchestrator.services.register({
      name: 'render-farm',
      endpoint: slowMedia.endpoint,
      factoryType: 'render',
      capabilities: ['generate_video'],
      costPerCall: 0.05,
    });
    await orchestrator.services.register({
      name: 'black-hole',
      endpoint: silent.endpoint,
      factoryType: 'void',
      capabilities: ['generate_video'],
    });
    const template = (factory: string, id: string) => ({
      workflow_id: id,
      name: id,
      steps: [
        {
          step_id: 'render',
          name: 'Render',
          factory_type: factory,
          action: 'generate_video',
          parameters: { prompt: 'Launch', duration: 10 },
          callback: true,
          heartbeat_seconds: 1,
          retries: 0,
        },
      ],
    });
    expect((await api.post('/workflows', template('render', 'render-long'))).status).toBe(201);
    expect((await api.post('/workflows', template('void', 'render-lost'))).status).toBe(201);

    const ok = await api.post('/workflows/render-long/executions', {});
    const done = await api.until(`/executions/${ok.body.executionId}`, ended);
    expect(done.status).toBe('SUCCEEDED');
    expect(step(done, 'render')).toMatchObject({
      status: 'SUCCEEDED',
      service: 'render-farm',
      costUsd: 0.05,
    });
    // The call was made at the service's price, kept through the callback.
    expect(done.costUsd).toBe(0.05);
    expect((done.results.render as { example?: boolean }).example).toBe(true);

    const lost = await api.post('/workflows/render-lost/executions', {});
    const failed = await api.until(`/executions/${lost.body.executionId}`, ended);
    expect(failed.status).toBe('FAILED');
    expect(failed.error.error).toBe('States.HeartbeatTimeout');
    expect(step(failed, 'render').status).toBe('FAILED');
    // A late callback for it is refused.
    const token = decodeURIComponent(
      new URL((silent.calls[0] as unknown as { callbackUrl: string }).callbackUrl).pathname
        .split('/')
        .pop() as string,
    );
    expect(
      (await api.post(`/callbacks/${encodeURIComponent(token)}`, { status: 'succeeded', output: {} })).status,
    ).toBe(409);
    expect(step((await api.get(`/executions/${lost.body.executionId}`)).body, 'render').status).toBe(
      'FAILED',
    );
  });

  it('publishes versions and rolls back to an earlier one', async () => {
    const { api } = runtime;
    const v1 = {
      workflow_id: 'brief',
      name: 'Brief',
      steps: [
        {
          step_id: 'a',
          name: 'A',
          factory_type: 'research',
          action: 'market_analysis',
          parameters: { market_sector: 'technology' },
        },
      ],
    };
    const v2 = { ...v1, steps: [{ ...v1.steps[0], parameters: { market_sector: 'healthcare' } }] };
    expect((await api.post('/workflows', v1)).body.currentVersion).toBe(1);
    expect((await api.post('/workflows', v2)).body.currentVersion).toBe(2);
    const run = async () => {
      const started = await api.post('/workflows/brief/executions', {});
      return api.until(`/executions/${started.body.executionId}`, ended);
    };
    expect((await run()).version).toBe(2);
    const rolled = await api.post('/workflows/brief/rollback', { version: 1 });
    expect(rolled.body).toMatchObject({ currentVersion: 1, latestVersion: 2 });
    const after = await run();
    expect(after).toMatchObject({ status: 'SUCCEEDED', version: 1 });
    const detail = await api.get('/workflows/brief');
    expect(detail.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect((await api.post('/workflows/brief/rollback', { version: 9 })).status).toBe(404);
  });

  it('refuses bad templates with the field named, and starts each idempotent run once', async () => {
    const { api } = runtime;
    const bad = await api.post('/workflows', {
      workflow_id: 'bad',
      name: 'Bad',
      steps: [
        { step_id: 'a', name: 'A', factory_type: 'research', action: 'fly', dependencies: ['b'] },
        { step_id: 'b', name: 'B', factory_type: 'research', action: 'market_analysis', dependencies: ['a'] },
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/dependency cycle/);
    expect(bad.body.error.message).toMatch(/steps\.0\.action/);
    const key = { 'Idempotency-Key': 'launch-2027' };
    const input = { market: 'EU', brief: { tone: 'bold', words: 200 } };
    const first = await api.post('/workflows/generate-and-analyze/executions', { input }, key);
    // The same input with its keys in another order, at both levels, is a repeat, not a conflict.
    const reordered = { brief: { words: 200, tone: 'bold' }, market: 'EU' };
    const second = await api.post('/workflows/generate-and-analyze/executions', { input: reordered }, key);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body.executionId).toBe(first.body.executionId);
    expect(
      (await api.post('/workflows/generate-and-analyze/executions', { input: { other: 1 } }, key)).status,
    ).toBe(409);
    expect((await api.get('/executions/nope')).status).toBe(404);
    expect((await api.post('/workflows/ghost/executions', {})).status).toBe(404);
  });
});
