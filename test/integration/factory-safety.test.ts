import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRefusal } from '../../lib/core/endpoint-policy.ts';
import type { FactoryRequest } from '../../lib/core/factory-call.ts';
import { LIMITS, overLimitMessage } from '../../lib/core/limits.ts';
import type { TaskMessage } from '../../lib/core/task-message.ts';
import { HttpFactoryClient } from '../../lib/factories/http-factory-client.ts';
import { invoke } from '../../lib/local/functions.ts';
import { scheduledEvent } from '../../lib/local/lambda-context.ts';
import { createOrchestrator } from '../../lib/orchestrator.ts';
import { wire } from '../../lib/wiring/context.ts';
import { backends, createServingStack, createStack, manualClock } from '../helpers/stack.ts';

const MiB = 1024 * 1024;

const call: FactoryRequest = { action: 'report', parameters: {}, taskId: 'task-1', context: {} };

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A client closed after the test. */
function client(...args: ConstructorParameters<typeof HttpFactoryClient>): HttpFactoryClient {
  const made = new HttpFactoryClient(...args);
  cleanups.push(() => made.close());
  return made;
}

/** A node:http server on `host`, counting the TCP connections and requests it sees; closed after the test. */
async function serve(
  host: string,
  handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
) {
  const seen = { connections: 0, requests: 0 };
  const server = createServer((req, res) => {
    seen.requests++;
    void handle(req, res);
  });
  server.on('connection', () => {
    seen.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { endpoint: `http://${host}:${port}`, port, seen };
}

/** Answers every request with `status` and a JSON body, after reading the request. */
function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    for await (const _ of req);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

/** Counts the client sockets this process creates while `run` runs (`net.client.socket`). */
async function socketsOpenedDuring<T>(run: () => Promise<T>): Promise<{ value: T; sockets: number }> {
  let sockets = 0;
  const count = () => {
    sockets++;
  };
  subscribe('net.client.socket', count);
  try {
    const value = await run();
    return { value, sockets };
  } finally {
    unsubscribe('net.client.socket', count);
  }
}

/** Waits until `res` can take more, or is gone. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/** A full garbage collection: `global.gc` when exposed, else V8's own, exposed for this process. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** A resolver with fixed answers, standing in for DNS. */
function resolver(names: Record<string, string[]>) {
  return async (hostname: string) => {
    const addresses = names[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])(
    'refuses a %i without following it, even to a server the policy would admit',
    async (status) => {
      // The target is allow-listed, so only the redirect rule keeps the client away from it.
      const target = await serve('127.0.0.2', answer(200, { status: 'ok', output: 'private data' }));
      const factory = await serve('127.0.0.1', (req, res) => {
        res.writeHead(status, { location: `${target.endpoint}${req.url}` });
        res.end();
      });
      const factories = client({ allowed: ['127.0.0.1', '127.0.0.2'] });

      const result = await factories.execute(factory.endpoint, call, 5_000);
      expect(result).toMatchObject({ ok: false, retryable: false, error: { kind: 'rejected', status } });
      const message = result.ok ? '' : result.error.message;
      expect(message).toBe(
        `HTTP ${status}: the factory redirected to ${target.endpoint}/execute; redirects are not followed`,
      );
      await expect(factories.status(factory.endpoint)).rejects.toThrow(
        new RegExp(`^HTTP ${status}: .*redirects are not followed`),
      );
      await expect(factories.capabilities(factory.endpoint)).rejects.toThrow(/redirects are not followed/);
      expect(factory.seen.requests).toBe(3);
      expect(target.seen).toEqual({ connections: 0, requests: 0 });

      // The target itself is reachable: the count above would have seen a followed redirect.
      expect(await factories.execute(target.endpoint, call, 5_000)).toMatchObject({
        ok: true,
        output: 'private data',
      });
      expect(target.seen).toEqual({ connections: 1, requests: 1 });
    },
  );
});

describe('the address connected to', () => {
  it('refuses a name that resolves to the metadata address, at connect time, opening no socket', async () => {
    const factory = await serve('127.0.0.1', answer(200, { status: 'ok', output: 'fine' }));
    const factories = client({
      allowed: ['127.0.0.1'],
      resolve: resolver({
        'metadata.example.test': ['169.254.169.254'],
        'factory.example.test': ['127.0.0.1'],
      }),
    });
    const refusal = `endpoint refused: ${connectRefusal('metadata.example.test', '169.254.169.254')}`;
    expect(refusal).toBe(
      "endpoint refused: host 'metadata.example.test' resolves to 169.254.169.254: address 169.254.169.254 is loopback, private, link-local or metadata",
    );

    const refused = await socketsOpenedDuring(() =>
      factories.execute('http://metadata.example.test/latest/meta-data', call, 5_000),
    );
    expect(refused.value).toMatchObject({ ok: false, retryable: false, error: { kind: 'rejected' } });
    expect(refused.value.ok ? '' : refused.value.error.message).toBe(refusal);
    expect(refused.sockets).toBe(0);

    const questions = await socketsOpenedDuring(async () => {
      await expect(factories.status('http://metadata.example.test')).rejects.toThrow(refusal);
      await expect(factories.capabilities('http://metadata.example.test')).rejects.toThrow(refusal);
    });
    expect(questions.sockets).toBe(0);

    // A name resolving to an allowed address connects (and the counter sees its socket).
    const allowed = await socketsOpenedDuring(() =>
      factories.execute(`http://factory.example.test:${factory.port}`, call, 5_000),
    );
    expect(allowed.value).toMatchObject({ ok: true, output: 'fine' });
    expect(allowed.sockets).toBe(1);
  });

  it('refuses loopback addresses not allow-listed, by name or literal, and the server there sees nothing', async () => {
    const hidden = await serve('127.0.0.2', answer(200, { status: 'ok', output: 'hidden' }));
    const names = resolver({
      'internal.example.test': ['127.0.0.2'],
      'mixed.example.test': ['203.0.113.10', '127.0.0.2'],
    });
    const factories = client({ allowed: ['127.0.0.1'], resolve: names });
    for (const endpoint of [
      `http://internal.example.test:${hidden.port}`,
      `http://mixed.example.test:${hidden.port}`,
      hidden.endpoint,
      `http://[::ffff:127.0.0.2]:${hidden.port}`,
    ]) {
      const result = await factories.execute(endpoint, call, 5_000);
      expect(result, endpoint).toMatchObject({ ok: false, retryable: false, error: { kind: 'rejected' } });
      expect(result.ok ? '' : result.error.message, endpoint).toMatch(
        /^endpoint refused: .*127\.0\.0\.2.* is loopback, private, link-local or metadata$/,
      );
    }
    expect(hidden.seen).toEqual({ connections: 0, requests: 0 });

    // An allow-list entry matches the name as written, or the address it resolves to.
    const byName = client({ allowed: ['internal.example.test'], resolve: names });
    expect(await byName.execute(`http://internal.example.test:${hidden.port}`, call, 5_000)).toMatchObject({
      ok: true,
      output: 'hidden',
    });
    const byRange = client({ allowed: ['127.0.0.0/8'], resolve: names });
    expect(await byRange.execute(`http://internal.example.test:${hidden.port}`, call, 5_000)).toMatchObject({
      ok: true,
    });
    expect(hidden.seen.requests).toBe(2);
  });

  it('an unknown name is a network error worth retrying, not a refusal', async () => {
    const factories = client({ resolve: resolver({}) });
    const result = await factories.execute('http://nowhere.example.test', call, 5_000);
    expect(result).toMatchObject({ ok: false, retryable: true, error: { kind: 'error' } });
    expect(result.ok ? '' : result.error.message).toMatch(/ENOTFOUND nowhere\.example\.test/);
  });
});

describe.each(backends())('health probes on $kind', (backend) => {
  it('probe through the wired client, which refuses what the configured allow-list does not admit', async () => {
    const stack = await createServingStack(backend, { allowedEndpoints: ['127.0.0.1'] });
    cleanups.push(
      () => stack.queue.stop(),
      () => wire({}),
    );
    const up = await serve('127.0.0.1', answer(200, { status: 'healthy' }));
    const hidden = await serve('127.0.0.2', answer(200, { status: 'healthy' }));
    // Registered while the allow-list was broader: the probe still may not reach it.
    const broader = createOrchestrator({
      doc: stack.doc,
      tables: stack.tables,
      allowedEndpoints: ['127.0.0.0/8'],
    });
    await broader.services.register({
      name: 'up',
      endpoint: up.endpoint,
      capabilities: ['x'],
      health: 'degraded',
    });
    await broader.services.register({ name: 'hidden', endpoint: hidden.endpoint, capabilities: ['x'] });

    const summary = await invoke('ProbeHealth', scheduledEvent('vobee-probe'));
    expect(summary).toMatchObject({ probed: 2, changed: 2 });
    expect((await stack.orchestrator.services.get('up')).health).toBe('healthy');
    expect(await stack.orchestrator.services.get('hidden')).toMatchObject({
      health: 'unhealthy',
      healthReason:
        'probe failed: endpoint refused: address 127.0.0.2 is loopback, private, link-local or metadata',
    });
    expect(up.seen.requests).toBe(1);
    expect(hidden.seen).toEqual({ connections: 0, requests: 0 });
  });
});

describe('answer size', () => {
  it('aborts a 200 MB chunked answer past the limit, without holding it in memory', async () => {
    const total = 200 * MiB;
    const piece = Buffer.alloc(64 * 1024, 'a');
    let written = 0;
    let finished!: (bytes: number) => void;
    const done = new Promise<number>((resolve) => {
      finished = resolve;
    });
    const factory = await serve('127.0.0.1', async (req, res) => {
      for await (const _ of req);
      let gone = false;
      res.on('close', () => {
        gone = true;
        finished(written);
      });
      // No Content-Length: chunked, until 200 MB or until the client goes away.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"ok","output":"');
      written += 25;
      while (!gone && written < total) {
        written += piece.length;
        if (!res.write(piece)) await writable(res);
      }
      if (!gone) res.end('"}');
    });
    const factories = client({ allowed: ['127.0.0.1'] });

    const gc = collector();
    gc();
    const memory = () => {
      const m = process.memoryUsage();
      return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
    };
    const start = memory();
    let peak = start;
    const sampler = setInterval(() => {
      const now = memory();
      peak = { heap: Math.max(peak.heap, now.heap), rss: Math.max(peak.rss, now.rss) };
    }, 2);
    let result: Awaited<ReturnType<HttpFactoryClient['execute']>>;
    try {
      result = await factories.execute(factory.endpoint, call, 30_000);
    } finally {
      clearInterval(sampler);
    }
    const sent = await done;
    gc();
    const end = memory();
    peak = { heap: Math.max(peak.heap, end.heap), rss: Math.max(peak.rss, end.rss) };

    expect(result).toMatchObject({ ok: false, retryable: false, error: { kind: 'error', status: 200 } });
    const message = result.ok ? '' : result.error.message;
    const received = Number(/answer: (\d+) bytes/.exec(message)?.[1]);
    expect(received).toBeGreaterThan(LIMITS.factoryAnswer.bytes);
    expect(message).toBe(`HTTP 200: ${overLimitMessage('factoryAnswer', received)} (reading stopped there)`);
    const heapDelta = peak.heap - start.heap;
    const rssDelta = peak.rss - start.rss;
    console.log(
      `200 MB answer: server wrote ${(sent / MiB).toFixed(1)} MiB before the client went away; ` +
        `peak heap+buffers +${(heapDelta / MiB).toFixed(1)} MiB, rss +${(rssDelta / MiB).toFixed(1)} MiB; ` +
        `heap+buffers after gc +${((end.heap - start.heap) / MiB).toFixed(1)} MiB`,
    );
    expect(sent).toBeGreaterThan(LIMITS.factoryAnswer.bytes);
    expect(sent).toBeLessThan(64 * MiB);
    expect(heapDelta).toBeLessThan(64 * MiB);
  });

  it('refuses unread an answer whose Content-Length is over the limit', async () => {
    let sent = 0;
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const declared = 200 * MiB;
    const factory = await serve('127.0.0.1', async (req, res) => {
      for await (const _ of req);
      res.on('close', () => closed());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(declared) });
      res.write(Buffer.alloc(MiB, 'a'));
      sent += MiB;
    });
    const result = await client({ allowed: ['127.0.0.1'] }).execute(factory.endpoint, call, 30_000);
    await gone;
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok ? '' : result.error.message).toBe(
      `HTTP 200: ${overLimitMessage('factoryAnswer', declared)} (by its Content-Length; not read)`,
    );
    expect(sent).toBe(MiB);
  });

  it('counts an answer in bytes, not characters', async () => {
    // '€' is 3 bytes of UTF-8: 6 Mi of them are 18 MiB, over the 16 MiB limit in far fewer characters.
    const euros = (count: number) =>
      serve('127.0.0.1', async (req, res) => {
        for await (const _ of req);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"status":"ok","output":"');
        const piece = '€'.repeat(MiB);
        for (let i = 0; i < count; i++) res.write(piece);
        res.end('"}');
      });
    const factories = client({ allowed: ['127.0.0.1'] });
    const over = await euros(6);
    const refused = await factories.execute(over.endpoint, call, 30_000);
    expect(6 * MiB).toBeLessThan(LIMITS.factoryAnswer.bytes);
    expect(refused).toMatchObject({ ok: false, retryable: false });
    const message = refused.ok ? '' : refused.error.message;
    const received = Number(/answer: (\d+) bytes/.exec(message)?.[1]);
    expect(message).toBe(`HTTP 200: ${overLimitMessage('factoryAnswer', received)} (reading stopped there)`);

    // 5 Mi of them (15 MiB and the JSON around them) are within it, and arrive whole.
    const within = await euros(5);
    const accepted = await factories.execute(within.endpoint, call, 30_000);
    expect(accepted.ok).toBe(true);
    const output = accepted.ok && !accepted.accepted ? (accepted.output as string) : '';
    expect(output).toHaveLength(5 * MiB);
    expect(output.startsWith('€€€')).toBe(true);
  });
});

describe.each(backends())('Retry-After through the task worker on $kind', (backend) => {
  /**
   * A stack on a manual clock whose task queue keeps what is sent; the worker is driven message by
   * message, so the waits are read from the clock and the queue, never from the wall clock.
   */
  async function retryStack(retryPolicy: Record<string, number>) {
    const clock = manualClock('2026-01-15T10:00:00.000Z');
    const sent: Array<{ message: TaskMessage; delaySeconds: number }> = [];
    const stack = await createStack(backend, {
      now: clock.now,
      allowedEndpoints: ['127.0.0.1'],
      router: { retryPolicy },
      queue: {
        async send(message, delaySeconds = 0) {
          sent.push({ message, delaySeconds });
        },
      },
    });
    const deliver = (message: TaskMessage) => stack.orchestrator.worker.process(message, { receiveCount: 1 });
    const next = () => {
      const item = sent.shift();
      if (!item) throw new Error('nothing was sent to the task queue');
      return item;
    };
    return { stack, clock, deliver, next };
  }

  /** A factory answering 503 with `Retry-After: 7` first, then its output. */
  async function busyOnce() {
    let n = 0;
    const server = await serve('127.0.0.1', async (req, res) => {
      for await (const _ of req);
      n++;
      const [status, headers, body] =
        n === 1
          ? [503, { 'retry-after': '7' }, { error: 'busy' }]
          : [200, {}, { status: 'ok', output: { call: n } }];
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    });
    return { ...server, calls: () => n };
  }

  it('a 503 with Retry-After: 7 makes the next attempt wait 7 s, not the policy back-off', async () => {
    const { stack, clock, deliver, next } = await retryStack({ baseDelaySeconds: 1, maxRetries: 3 });
    const factory = await busyOnce();
    await stack.orchestrator.services.register({
      name: 'busy-ai',
      endpoint: factory.endpoint,
      capabilities: ['report'],
    });
    await stack.orchestrator.tasks.submit({ id: 'busy-1', type: 'report' });

    expect(await deliver(next().message)).toMatchObject({ result: 'RETRY', calls: 1 });
    const waiting = await stack.orchestrator.taskQueries.get('busy-1');
    expect(waiting).toMatchObject({
      status: 'RUNNING',
      waiting: { for: 'retry', until: '2026-01-15T10:00:07.000Z' },
    });
    expect(waiting.attempts[0]?.error).toMatchObject({ kind: 'error', status: 503 });
    const retry = next();
    expect(retry).toMatchObject({ delaySeconds: 7, message: { notBefore: '2026-01-15T10:00:07.000Z' } });

    // Delivered a second early, the message goes back to the queue for the rest of the wait.
    clock.advance(6_000);
    expect(await deliver(retry.message)).toMatchObject({ result: 'DEFERRED' });
    expect(factory.calls()).toBe(1);
    const rest = next();
    expect(rest.delaySeconds).toBe(1);

    clock.advance(1_000);
    expect(await deliver(rest.message)).toMatchObject({ result: 'SUCCEEDED', calls: 1 });
    const record = await stack.orchestrator.taskQueries.get('busy-1');
    expect(record).toMatchObject({ status: 'SUCCEEDED', output: { call: 2 } });
    expect(record.attempts.map((a) => a.at)).toEqual([
      '2026-01-15T10:00:00.000Z',
      '2026-01-15T10:00:07.000Z',
    ]);
  });

  it("bounds the wait by the policy's maxDelaySeconds", async () => {
    const { stack, deliver, next } = await retryStack({ baseDelaySeconds: 1, maxDelaySeconds: 3 });
    const factory = await busyOnce();
    await stack.orchestrator.services.register({
      name: 'busy-ai',
      endpoint: factory.endpoint,
      capabilities: ['report'],
    });
    await stack.orchestrator.tasks.submit({ id: 'busy-2', type: 'report' });

    expect(await deliver(next().message)).toMatchObject({ result: 'RETRY' });
    expect((await stack.orchestrator.taskQueries.get('busy-2')).waiting).toEqual({
      for: 'retry',
      until: '2026-01-15T10:00:03.000Z',
    });
    expect(next().delaySeconds).toBe(3);
  });

  it("fails over at once when Retry-After does not fit in the task's budget", async () => {
    const { stack, deliver, next } = await retryStack({ maxRetries: 3 });
    const busy = await busyOnce();
    const spare = await serve('127.0.0.1', answer(200, { status: 'ok', output: 'from the spare' }));
    await stack.orchestrator.services.register({
      name: 'a-busy',
      endpoint: busy.endpoint,
      capabilities: ['report'],
    });
    // Capability routing puts the specialist first: a-busy is the primary, b-spare the fallback.
    await stack.orchestrator.services.register({
      name: 'b-spare',
      endpoint: spare.endpoint,
      capabilities: ['report', 'blog_post'],
    });
    await stack.orchestrator.tasks.submit({ id: 'busy-3', type: 'report', resources: { timeoutSeconds: 5 } });

    expect(await deliver(next().message)).toMatchObject({ result: 'SUCCEEDED', calls: 2 });
    const record = await stack.orchestrator.taskQueries.get('busy-3');
    expect(record).toMatchObject({ status: 'SUCCEEDED', output: 'from the spare' });
    expect(record.attempts.map((a) => `${a.service}:${a.outcome}`)).toEqual([
      'a-busy:failed',
      'b-spare:succeeded',
    ]);
  });
});
