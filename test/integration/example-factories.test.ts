import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FactoryRequest } from '../../lib/core/factory-call.ts';
import { HttpFactoryClient } from '../../lib/factories/http-factory-client.ts';
import {
  EXAMPLE_FACTORIES,
  EXAMPLE_MODULES,
  EXAMPLE_NOTICE,
  type ExampleFactoryKind,
  type ExampleFactoryOptions,
  startExampleFactory,
} from '../../lib/local/factories/index.ts';

const client = new HttpFactoryClient({ allowed: ['127.0.0.1'] });
const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(kind: ExampleFactoryKind, options: ExampleFactoryOptions = {}) {
  const factory = await startExampleFactory(kind, options);
  running.push(factory);
  return factory;
}

const call = (action: string, parameters: Record<string, unknown> = {}): FactoryRequest => ({
  action,
  parameters,
  taskId: 'task-1',
  context: {},
});

/** Typical parameters for every action, as the example workflows send them. */
const TYPICAL: Record<ExampleFactoryKind, Record<string, Record<string, unknown>>> = {
  media: {
    generate_image: { prompt: 'Product mockup', style: 'realistic' },
    generate_images: { prompts: ['Product hero', 'Product detail'], brief: 'Market insight: growing' },
    // Small enough to answer inline: a call without an upload offer.
    generate_video: { prompt: 'Product showcase', duration: 1, fps: 4, width: 32, height: 18 },
    text_to_speech: { text: 'Welcome to VoBee, the orchestrator that routes AI tasks.' },
  },
  research: {
    market_analysis: { market_sector: 'technology', depth: 'comprehensive' },
    discover_technology: { query: 'emerging tech trends' },
    analyze_papers: {
      papers: [
        { title: 'Routing models', abstract: 'Routing picks a model per query. Bandits explore.' },
        { title: 'Cheap answers', abstract: 'Small models answer easy queries at low cost.' },
      ],
    },
  },
};

/** Each task type with the action whose parameters it takes. */
const TASK_TYPES: Record<string, string> = {
  image_generation: 'generate_image',
  video_generation: 'generate_video',
  speech_synthesis: 'text_to_speech',
  market_research: 'market_analysis',
  technology_discovery: 'discover_technology',
  paper_analysis: 'analyze_papers',
};

/** A loopback server standing in for the orchestrator's callback endpoint. */
async function startCallbackReceiver(status: (n: number) => number = () => 200) {
  const bodies: unknown[] = [];
  const server = createServer(async (req, res) => {
    bodies.push(JSON.parse(await readBody(req)));
    res.writeHead(status(bodies.length)).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  running.push(receiver);
  return receiver;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function postExecute(endpoint: string, body: Record<string, unknown>) {
  const response = await fetch(`${endpoint}/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ taskId: 'task-1', context: {}, ...body }),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe.each(['media', 'research'] as const)('the %s example factory', (kind) => {
  it('succeeds at every action and task type it lists, through the HTTP client', async () => {
    const factory = await start(kind);
    const described = EXAMPLE_FACTORIES[kind];
    expect(Object.keys(TYPICAL[kind]).sort()).toEqual([...described.actions].sort());
    const names = [...described.actions, ...described.taskTypes];
    expect(factory.capabilities).toEqual(names);
    for (const name of names) {
      const parameters = TYPICAL[kind][TASK_TYPES[name] ?? name] ?? {};
      const result = await client.execute(factory.endpoint, call(name, parameters), 5_000);
      expect(result, name).toMatchObject({ ok: true, output: { example: true, notice: EXAMPLE_NOTICE } });
      if (result.ok && !result.accepted)
        expect(Buffer.byteLength(JSON.stringify(result.output))).toBeLessThan(256 * 1024);
    }
    expect(factory.stats()).toMatchObject({ completed: names.length, failed: 0, inFlight: 0 });
  });

  it('answers /status and /capabilities', async () => {
    const factory = await start(kind);
    const first = Object.keys(TYPICAL[kind])[0] as string;
    await client.execute(factory.endpoint, call(first, TYPICAL[kind][first]), 5_000);
    expect(await client.status(factory.endpoint)).toMatchObject({
      status: 'healthy',
      factory: EXAMPLE_FACTORIES[kind].name,
      version: expect.any(String),
      inFlight: 0,
      completed: 1,
      failed: 0,
      uptimeSeconds: expect.any(Number),
    });
    expect(await client.capabilities(factory.endpoint)).toEqual({
      factory: EXAMPLE_FACTORIES[kind].name,
      factoryType: kind,
      actions: EXAMPLE_FACTORIES[kind].actions,
      taskTypes: EXAMPLE_FACTORIES[kind].taskTypes,
      example: true,
    });
  });

  it('rejects an unknown action with a 400 naming the field, which the client will not retry', async () => {
    const factory = await start(kind);
    const result = await client.execute(factory.endpoint, call('paint_fence'), 5_000);
    expect(result).toMatchObject({ ok: false, retryable: false, error: { kind: 'rejected', status: 400 } });
    expect(!result.ok && result.error.message).toContain('"field":"action"');
    expect(factory.stats()).toMatchObject({ rejected: 1, failed: 0 });
  });
});

describe('the registry descriptions', () => {
  it('list the storage module first and each factory depending on it', () => {
    expect(EXAMPLE_MODULES.map((m) => [m.name, m.category, m.dependencies])).toEqual([
      ['example-storage', 'infrastructure', []],
      ['media-factory', 'media', ['example-storage']],
      ['research-factory', 'research', ['example-storage']],
    ]);
  });
});

describe('parameters over HTTP', () => {
  it('answers 400 naming the parameter that is wrong', async () => {
    const factory = await start('media');
    const answer = await postExecute(factory.endpoint, { action: 'generate_image', parameters: {} });
    expect(answer).toEqual({
      status: 400,
      body: { error: { field: 'parameters.prompt', message: expect.any(String) } },
    });
    const notJson = await fetch(`${factory.endpoint}/execute`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { field: 'body' } });
  });
});

describe('fault injection', () => {
  const image = call('generate_image', { prompt: 'Product mockup' });

  it('answers 500 at failureRate 1, which the client classifies as retryable', async () => {
    const factory = await start('media', { failureRate: 1 });
    for (let i = 0; i < 4; i++) {
      const result = await client.execute(factory.endpoint, image, 5_000);
      expect(result).toMatchObject({ ok: false, retryable: true, error: { kind: 'error', status: 500 } });
      expect(!result.ok && result.error.message).toContain('injected failure');
    }
    expect(factory.stats()).toMatchObject({ failed: 4, completed: 0, injectedFailures: 4 });
    expect(await client.status(factory.endpoint)).toMatchObject({ status: 'degraded', failed: 4 });
  });

  it('never answers within the timeout at timeoutRate 1: the client times out', async () => {
    const factory = await start('media', { timeoutRate: 1 });
    const result = await client.execute(factory.endpoint, image, 200);
    expect(result).toMatchObject({ ok: false, retryable: true, error: { kind: 'timeout' } });
    expect(result.latencyMs).toBeGreaterThanOrEqual(200);
    // The abandoned call is let go, not held for the whole minute.
    await vi.waitFor(() => expect(factory.stats()).toMatchObject({ inFlight: 0, injectedTimeouts: 1 }));
  });

  it('lets go of a held call when the factory closes', async () => {
    const factory = await start('media', { timeoutRate: 1, hangMs: 60_000 });
    const pending = client.execute(factory.endpoint, image, 30_000);
    await vi.waitFor(() => expect(factory.stats().inFlight).toBe(1));
    const closing = performance.now();
    await factory.close();
    expect(performance.now() - closing).toBeLessThan(1_000);
    expect(await pending).toMatchObject({ ok: false, error: { kind: 'error' } });
  });

  it('waits at least a fixed latency, and within the range of a uniform one', async () => {
    const fixed = await start('media', { latencyMs: { kind: 'fixed', ms: 50 } });
    const uniform = await start('media', { latencyMs: { kind: 'uniform', min: 30, max: 60 }, seed: 3 });
    for (let i = 0; i < 3; i++) {
      const slow = await client.execute(fixed.endpoint, image, 5_000);
      expect(slow.ok).toBe(true);
      expect(slow.latencyMs).toBeGreaterThanOrEqual(50);
      const ranged = await client.execute(uniform.endpoint, image, 5_000);
      expect(ranged.latencyMs).toBeGreaterThanOrEqual(30);
    }
  });

  it('draws the same faults for the same seed', async () => {
    const outcomes = async (seed: number) => {
      const factory = await start('research', { failureRate: 0.5, seed });
      const results: boolean[] = [];
      for (let i = 0; i < 16; i++) {
        const result = await client.execute(
          factory.endpoint,
          call('discover_technology', { query: 'ai' }),
          5_000,
        );
        results.push(result.ok);
      }
      return results;
    };
    const first = await outcomes(2024);
    expect(await outcomes(2024)).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
    expect(await outcomes(2025)).not.toEqual(first);
  });
});

describe('asynchronous mode', () => {
  it('accepts at once with a job id, then posts the result to the callback URL', async () => {
    const receiver = await startCallbackReceiver();
    const factory = await start('research', { async: true, latencyMs: { kind: 'fixed', ms: 30 } });
    const answer = await postExecute(factory.endpoint, {
      action: 'market_analysis',
      parameters: { market_sector: 'energy' },
      callbackUrl: receiver.url,
      taskToken: 'token-1',
    });
    expect(answer).toEqual({ status: 202, body: { status: 'accepted', jobId: expect.any(String) } });
    await vi.waitFor(() => expect(receiver.bodies).toHaveLength(1));
    expect(receiver.bodies[0]).toEqual({
      taskToken: 'token-1',
      status: 'succeeded',
      output: expect.objectContaining({ example: true, sector: 'energy', summary: expect.any(String) }),
    });
    await vi.waitFor(() =>
      expect(factory.stats()).toMatchObject({ inFlight: 0, completed: 1, callbacksDelivered: 1 }),
    );
  });

  it('posts a failure when the job fails, and answers by callback when a call asks for it', async () => {
    const receiver = await startCallbackReceiver();
    const failing = await start('media', { async: true, failureRate: 1 });
    const plain = await start('media');
    const body = (taskToken: string, parameters: Record<string, unknown>) => ({
      action: 'generate_image',
      parameters: { prompt: 'Product mockup', ...parameters },
      callbackUrl: receiver.url,
      taskToken,
    });
    expect((await postExecute(failing.endpoint, body('token-failed', {}))).status).toBe(202);
    expect((await postExecute(plain.endpoint, body('token-asked', { async: true }))).status).toBe(202);
    await vi.waitFor(() => expect(receiver.bodies).toHaveLength(2));
    expect(receiver.bodies).toContainEqual({
      taskToken: 'token-failed',
      status: 'failed',
      error: expect.stringContaining('injected failure'),
    });
    expect(receiver.bodies).toContainEqual({
      taskToken: 'token-asked',
      status: 'succeeded',
      output: expect.objectContaining({ format: 'svg' }),
    });
  });

  it('retries a callback the receiver could not take', async () => {
    const receiver = await startCallbackReceiver((n) => (n === 1 ? 503 : 204));
    const factory = await start('media', { async: true });
    await postExecute(factory.endpoint, {
      action: 'text_to_speech',
      parameters: { text: 'hello' },
      callbackUrl: receiver.url,
      taskToken: 'token-retry',
    });
    await vi.waitFor(() => expect(factory.stats().callbacksDelivered).toBe(1));
    expect(receiver.bodies).toHaveLength(2);
    expect(receiver.bodies[1]).toEqual(receiver.bodies[0]);
  });

  it('answers 400 naming callbackUrl when an asynchronous call has none', async () => {
    const factory = await start('media', { async: true });
    const answer = await postExecute(factory.endpoint, {
      action: 'generate_image',
      parameters: { prompt: 'Product mockup' },
      taskToken: 'token-1',
    });
    expect(answer).toMatchObject({ status: 400, body: { error: { field: 'callbackUrl' } } });
  });
});
