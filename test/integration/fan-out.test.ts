/**
 * Fan-out steps (`for_each`) run on the local runtime: the compiled definition, the real step
 * handler, DynamoDB and the local S3, against factories on loopback. A list above the inline size
 * goes through the Distributed Map, which the local engine runs as an inline Map reading the list
 * from its artifact.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INLINE_ITEMS } from '../../lib/core/workflow/fan-out.ts';
import type { StepRecord } from '../../lib/core/workflow/workflow-records.ts';
import { type RunningExampleFactory, startExampleFactory } from '../../lib/local/factories/index.ts';
import { LOCAL_S3_CREDENTIALS } from '../../lib/local/s3.ts';
import { seedExamples, seedWorkflows } from '../../lib/local/seed.ts';
import { type FactoryCall, startFactory } from '../helpers/factory-server.ts';
import { startTestRuntime } from '../helpers/local-runtime.ts';

type Runtime = Awaited<ReturnType<typeof startTestRuntime>>;
// biome-ignore lint/suspicious/noExplicitAny: outputs are read field by field and checked by the assertions
type Output = any;

const ended = (b: { status: string }) => ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].includes(b.status);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fan-out steps on the local runtime', () => {
  let runtime: Runtime;
  let media: RunningExampleFactory;
  let research: RunningExampleFactory;
  /** The render factory: answers each call after 15 ms, counting how many it has at once. */
  let render: Awaited<ReturnType<typeof startFactory>>;
  const inFlight = { now: 0, max: 0 };
  /** Calls whose prompt says so fail (500): a retry cannot help them. */
  const broken = (call: FactoryCall) => String(call.parameters.prompt).includes('broken');

  beforeAll(async () => {
    runtime = await startTestRuntime();
    media = await startExampleFactory('media');
    research = await startExampleFactory('research');
    await seedExamples(runtime.orchestrator, [media, research]);
    await seedWorkflows(runtime.orchestrator);
    render = await startFactory(async (call) => {
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      await sleep(15);
      inFlight.now--;
      if (broken(call)) return { status: 500, body: { error: `cannot draw '${call.parameters.prompt}'` } };
      return { status: 200, body: { status: 'ok', output: { drawn: call.parameters } } };
    });
    await runtime.orchestrator.services.register({
      name: 'render-counter',
      endpoint: render.endpoint,
      factoryType: 'render',
      capabilities: ['draw', 'plan'],
    });
  });
  afterAll(async () => {
    await Promise.all([media?.close(), research?.close(), render?.close()]);
    await runtime?.stop(1_000);
  });

  async function register(template: Record<string, unknown>) {
    const registered = await runtime.api.post('/workflows', template);
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  }

  async function run(workflowId: string, input: Record<string, unknown> = {}) {
    const started = await runtime.api.post(`/workflows/${workflowId}/executions`, { input });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const done = await runtime.api.until(`/executions/${started.body.executionId}`, ended, 60_000);
    const step = (id: string) => done.steps.find((s: StepRecord) => s.stepId === id) as StepRecord;
    /** A step's output, read from its artifact when it was kept by reference. */
    const output = async (id: string): Promise<Output> => {
      const kept = done.results[id] as Output;
      if (kept?.artifact?.mimeType !== 'application/json') return kept;
      return (await fetch(`${runtime.apiUrl}/artifacts/${kept.artifact.id}`)).json();
    };
    return { done, step, output };
  }

  /** The JSON documents of the local artifact bucket. */
  async function storedDocuments(): Promise<unknown[]> {
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: runtime.s3Endpoint,
      forcePathStyle: true,
      credentials: LOCAL_S3_CREDENTIALS,
    });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: 'vobee-artifacts', Prefix: 'artifacts/' }),
    );
    return Promise.all(
      (listed.Contents ?? []).map(async ({ Key }) => {
        const object = await s3.send(new GetObjectCommand({ Bucket: 'vobee-artifacts', Key }));
        const text = (await object.Body?.transformToString('utf8')) ?? '';
        try {
          return JSON.parse(text);
        } catch {
          return undefined;
        }
      }),
    );
  }

  it('runs 100 items from the run input, at most max_concurrency at a time, through the Distributed Map: the output lists the items’ outputs in order', async () => {
    await register({
      workflow_id: 'fan-out-input',
      name: 'Fan-out over the run input',
      inputs: { prompts: { type: 'array' }, style: { type: 'string', default: 'flat' } },
      steps: [
        {
          step_id: 'draw',
          name: 'Draw each prompt',
          factory_type: 'render',
          action: 'draw',
          for_each: { items: '{{input.prompts}}', max_concurrency: 7 },
          parameters: {
            prompt: '{{item}}',
            position: '{{index}}',
            label: '#{{index}}: {{item}} ({{input.style}})',
          },
        },
      ],
    });
    const prompts = Array.from({ length: 100 }, (_, i) => `product shot ${i}`);
    expect(prompts.length).toBeGreaterThan(MAX_INLINE_ITEMS);
    inFlight.max = 0;
    const calls = render.calls.length;
    const { done, step, output } = await run('fan-out-input', { prompts });
    expect(done.status, JSON.stringify(done).slice(0, 2_000)).toBe('SUCCEEDED');
    expect(render.calls.length - calls).toBe(100);
    // Seven at a time, never more; and more than one at a time.
    expect(inFlight.max).toBeLessThanOrEqual(7);
    expect(inFlight.max).toBeGreaterThan(1);
    expect(step('draw')).toMatchObject({ status: 'SUCCEEDED', items: 100, service: 'render-counter' });
    const outputs = (await output('draw')) as Output[];
    expect(outputs).toHaveLength(100);
    outputs.forEach((out, i) => {
      expect(out.drawn).toEqual({
        prompt: `product shot ${i}`,
        position: i,
        label: `#${i}: product shot ${i} (flat)`,
      });
    });
    // The list was above the inline size: it went to the Distributed Map as a JSON artifact.
    expect(await storedDocuments()).toContainEqual(prompts);
  });

  it("runs over an earlier step's output, inline, and a later step reads the fan-out's output", async () => {
    await register({
      workflow_id: 'fan-out-step',
      name: 'Fan-out over a step output',
      steps: [
        {
          step_id: 'plan',
          name: 'Plan the shots',
          factory_type: 'render',
          action: 'plan',
          parameters: {
            prompt: 'plan',
            shots: [
              { name: 'front', size: 256 },
              { name: 'side', size: 512 },
              { name: 'back', size: 128 },
            ],
          },
        },
        {
          step_id: 'shots',
          name: 'One image per shot',
          factory_type: 'render',
          action: 'draw',
          dependencies: ['plan'],
          for_each: { items: '{{steps.plan.output.drawn.shots}}', max_concurrency: 2 },
          parameters: {
            prompt: '{{item.name}} view',
            size: '{{item.size}}',
            of: '{{steps.plan.output.drawn.prompt}}',
          },
        },
        {
          step_id: 'cover',
          name: 'Cover from the second shot',
          factory_type: 'render',
          action: 'draw',
          dependencies: ['shots'],
          parameters: {
            prompt: 'cover of {{steps.shots.output.1.drawn.prompt}}',
            all: '{{steps.shots.output}}',
          },
        },
      ],
    });
    inFlight.max = 0;
    const { done, step, output } = await run('fan-out-step');
    expect(done.status, JSON.stringify(done).slice(0, 2_000)).toBe('SUCCEEDED');
    expect(inFlight.max).toBeLessThanOrEqual(2);
    expect(step('shots')).toMatchObject({ status: 'SUCCEEDED', items: 3 });
    const shots = (await output('shots')) as Output[];
    expect(shots.map((s) => s.drawn)).toEqual([
      { prompt: 'front view', size: 256, of: 'plan' },
      { prompt: 'side view', size: 512, of: 'plan' },
      { prompt: 'back view', size: 128, of: 'plan' },
    ]);
    // The dependent step started only once the fan-out had ended, and read its output.
    expect(Date.parse(step('cover').startedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(step('shots').endedAt as string),
    );
    const cover = (await output('cover')) as Output;
    expect(cover.drawn.prompt).toBe('cover of side view');
    expect(cover.drawn.all).toEqual(shots);
  });

  it('fails the step when an item fails after its retries; the run fails and the step names the item', async () => {
    await register({
      workflow_id: 'fan-out-broken',
      name: 'Fan-out with a broken item',
      steps: [
        {
          step_id: 'draw',
          name: 'Draw',
          factory_type: 'render',
          action: 'draw',
          retries: 1,
          for_each: { items: ['fine a', 'broken b', 'fine c'], max_concurrency: 1 },
          parameters: { prompt: '{{item}}' },
        },
        {
          step_id: 'after',
          name: 'After',
          factory_type: 'render',
          action: 'draw',
          dependencies: ['draw'],
          parameters: { prompt: 'after' },
        },
      ],
    });
    const calls = render.calls.length;
    const { done, step } = await run('fan-out-broken');
    expect(done.status).toBe('FAILED');
    expect(step('draw').status).toBe('FAILED');
    expect(step('draw').error).toContain("item 1 of 'draw'");
    expect(step('draw').error).toContain("cannot draw 'broken b'");
    expect(done.steps.map((s: StepRecord) => s.stepId)).not.toContain('after');
    // One at a time: the broken item was tried twice (one retry) right after the first. (The local
    // interpreter may still start the queued third item as the Map fails; Step Functions does not.)
    const made = render.calls.slice(calls).map((c) => c.parameters.prompt);
    expect(made.slice(0, 3)).toEqual(['fine a', 'broken b', 'broken b']);
    expect(made.filter((p) => p === 'broken b')).toHaveLength(2);
  });

  it('skips a fan-out whose dependency failed, and fails one whose reference is not a list', async () => {
    const draw = (id: string, fields: Record<string, unknown>) => ({
      step_id: id,
      name: id,
      factory_type: 'render',
      action: 'draw',
      ...fields,
    });
    await register({
      workflow_id: 'fan-out-edges',
      name: 'Fan-outs that do not run',
      steps: [
        draw('bad', { parameters: { prompt: 'broken plan' }, retries: 0, on_failure: 'continue' }),
        draw('skipped', {
          dependencies: ['bad'],
          for_each: { items: '{{steps.bad.output.list}}' },
          parameters: { prompt: '{{item}}' },
        }),
        draw('good', { parameters: { prompt: 'plan' } }),
        draw('notalist', {
          dependencies: ['good'],
          for_each: { items: '{{steps.good.output.drawn.prompt}}' },
          parameters: { prompt: '{{item}}' },
          on_failure: 'continue',
        }),
      ],
    });
    const calls = render.calls.length;
    const { done, step } = await run('fan-out-edges');
    expect(done.status).toBe('SUCCEEDED');
    expect(step('skipped')).toMatchObject({ status: 'SKIPPED', error: "dependency 'bad' failed" });
    expect(step('notalist').status).toBe('FAILED');
    expect(step('notalist').error).toContain(
      'steps.notalist.for_each.items: must resolve to a list, not string',
    );
    // Only the two plain steps called the factory.
    expect(
      render.calls
        .slice(calls)
        .map((c) => c.parameters.prompt)
        .sort(),
    ).toEqual(['broken plan', 'plan']);
  });

  it('runs a fan-out on an express workflow, inline', async () => {
    await register({
      workflow_id: 'fan-out-express',
      name: 'Fan-out on Express',
      engine: 'express',
      steps: [
        {
          step_id: 'draw',
          name: 'Draw',
          factory_type: 'render',
          action: 'draw',
          for_each: { items: [{ p: 'x' }, { p: 'y' }], max_concurrency: 2 },
          parameters: { prompt: '{{item.p}}{{index}}' },
        },
      ],
    });
    const { done, output } = await run('fan-out-express');
    expect(done.status).toBe('SUCCEEDED');
    expect(((await output('draw')) as Output[]).map((o) => o.drawn.prompt)).toEqual(['x0', 'y1']);
  });

  it('refuses a template whose for_each does not hold, naming each field', async () => {
    const step = (id: string, fields: Record<string, unknown> = {}) => ({
      step_id: id,
      name: id,
      factory_type: 'render',
      action: 'draw',
      ...fields,
    });
    // Rules of the template (422), each under its field.
    const broken = await runtime.api.post('/workflows', {
      workflow_id: 'fan-out-invalid',
      name: 'Invalid fan-outs',
      inputs: { title: { type: 'string', default: 'x' } },
      steps: [
        step('a', { parameters: { p: '{{item}}' } }),
        step('b', { for_each: { items: '{{steps.c.output.list}}' } }),
        step('c', { dependencies: ['a'] }),
        step('d', { for_each: { items: '{{input.title}}' } }),
        step('e', { for_each: { items: 'some text' } }),
        step('f', { for_each: { items: [1, 2] }, callback: true }),
      ],
    });
    expect(broken.status).toBe(422);
    const told = JSON.stringify(broken.body);
    for (const [field, words] of [
      ['steps.0.parameters.p', 'has no for_each'],
      ['steps.1.for_each.items', "step 'c', which is not a dependency"],
      ['steps.3.for_each.items', "declare it as 'array'"],
      ['steps.4.for_each.items', 'is not a list'],
      ['steps.5.callback', 'cannot wait for callbacks'],
    ]) {
      expect(told).toContain(field);
      expect(told).toContain(words);
    }
    // Malformed fields (400), each under its field.
    const malformed = await runtime.api.post('/workflows', {
      workflow_id: 'fan-out-malformed',
      name: 'Malformed fan-outs',
      steps: [
        step('a', { for_each: { items: [1], max_concurrency: 0 } }),
        step('b', { for_each: { items: Array.from({ length: 1_001 }, (_, i) => i) } }),
        step('c', { for_each: { items: { not: 'a list' } } }),
      ],
    });
    expect(malformed.status).toBe(400);
    const said = JSON.stringify(malformed.body);
    for (const field of [
      'steps.0.for_each.max_concurrency',
      'steps.1.for_each.items',
      'steps.2.for_each.items',
    ])
      expect(said).toContain(field);
    expect(said).toContain('more than the 1000 a template may list');
    expect((await runtime.api.get('/workflows/fan-out-invalid')).status).toBe(404);
  });

  it('runs the product-image-set example: 100 product images, one per prompt of the run input', async () => {
    const prompts = Array.from({ length: 100 }, (_, i) => `angle ${i + 1} of 100`);
    const { done, step, output } = await run('product-image-set', { product: 'Aurora desk lamp', prompts });
    expect(done.status, JSON.stringify(done).slice(0, 2_000)).toBe('SUCCEEDED');
    expect(step('images')).toMatchObject({ status: 'SUCCEEDED', items: 100, service: 'media-factory' });
    const images = (await output('images')) as Output[];
    expect(images).toHaveLength(100);
    images.forEach((image, i) => {
      expect(image.example).toBe(true);
      expect(image.prompt).toBe(`Aurora desk lamp, angle ${i + 1} of 100`);
    });
  });
});
