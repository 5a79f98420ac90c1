import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS, overLimitMessage } from '../../../lib/core/limits.ts';
import {
  HttpFactoryClient,
  parseRetryAfter,
  readLimited,
} from '../../../lib/factories/http-factory-client.ts';

const NOW = Date.parse('2026-10-21T07:28:00.000Z');
const call = { action: 'report', parameters: {}, taskId: 'task-1', context: {} };

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7_000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });

  it('reads an HTTP-date against the clock, a date already past being 0', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 08:28:00 GMT', NOW)).toBe(3_600_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', NOW)).toBe(0);
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['5', '9'], NOW)).toBe(5_000);
  });

  it.each([undefined, '', 'soon', '-5', '1.5', 'next week'])('ignores %o', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('readLimited', () => {
  async function* pieces(...chunks: Buffer[]) {
    yield* chunks;
  }
  const body = (...chunks: Buffer[]) => {
    const state = { destroyed: false };
    return Object.assign(pieces(...chunks), {
      destroy: () => {
        state.destroyed = true;
      },
      on: () => undefined,
      state,
    });
  };

  it('joins the bytes and decodes them once, so a character split between chunks survives', async () => {
    const euro = Buffer.from('€');
    const read = body(Buffer.from('{"a":"'), euro.subarray(0, 1), euro.subarray(1), Buffer.from('"}'));
    expect(await readLimited(read, undefined)).toEqual({ text: '{"a":"€"}' });
    expect(read.state.destroyed).toBe(false);
  });

  it('stops at the first chunk that passes the limit, counting bytes', async () => {
    const limit = LIMITS.factoryAnswer.bytes;
    // Each chunk is a ninth of the limit in characters, a third in bytes: three fit, the fourth passes it.
    const third = Buffer.from('€'.repeat(Math.floor(limit / 9)));
    expect(third.length * 3).toBeLessThanOrEqual(limit);
    const never = Buffer.from('not read');
    let reached = false;
    async function* chunks() {
      yield third;
      yield third;
      yield third;
      yield third;
      reached = true;
      yield never;
    }
    const read = Object.assign(chunks(), { destroy: () => undefined, on: () => undefined });
    const result = await readLimited(read, undefined);
    expect(result).toEqual({
      overLimit: `${overLimitMessage('factoryAnswer', third.length * 4)} (reading stopped there)`,
    });
    expect(reached).toBe(false);
  });

  it('reads nothing when the Content-Length says more than the limit', async () => {
    const read = body(Buffer.from('x'));
    const declared = LIMITS.factoryAnswer.bytes + 1;
    expect(await readLimited(read, String(declared))).toEqual({
      overLimit: `${overLimitMessage('factoryAnswer', declared)} (by its Content-Length; not read)`,
    });
    expect(read.state.destroyed).toBe(true);
  });
});

describe('HttpFactoryClient and Retry-After', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A factory on loopback answering each execute with `status` and `headers`. */
  async function factory(status: number, headers: Record<string, string>) {
    server = createServer(async (req, res) => {
      for await (const _ of req);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: 'busy' }));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it.each([
    [503, { 'retry-after': '7' }, 7_000],
    [429, { 'retry-after': 'Wed, 21 Oct 2026 07:28:45 GMT' }, 45_000],
    [503, {}, undefined],
    [500, { 'retry-after': '7' }, undefined],
  ] as const)('a %i with %o is retryable, with retryAfterMs %s', async (status, headers, retryAfterMs) => {
    const endpoint = await factory(status, headers);
    const client = new HttpFactoryClient({ allowed: ['127.0.0.1'], now: () => NOW });
    try {
      const result = await client.execute(endpoint, call, 5_000);
      expect(result).toMatchObject({ ok: false, retryable: true, error: { kind: 'error', status } });
      expect(result.ok ? 'ok' : result.retryAfterMs).toBe(retryAfterMs);
    } finally {
      await client.close();
    }
  });
});

describe('HttpFactoryClient and kept-alive connections', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /**
   * A factory that closes a connection unanswered when `drop(n)` says so for the n-th request on
   * it, as a server closing an idle connection does at the moment the client reuses it.
   */
  async function factory(drop: (requestOnConnection: number) => boolean) {
    const answered: string[] = [];
    const perConnection = new WeakMap<object, number>();
    let connections = 0;
    server = createServer(async (req, res) => {
      const n = (perConnection.get(req.socket) ?? 0) + 1;
      perConnection.set(req.socket, n);
      if (drop(n)) {
        req.socket.destroy();
        return;
      }
      let body = '';
      for await (const chunk of req) body += chunk;
      answered.push((JSON.parse(body) as { taskId: string }).taskId);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', output: 'done' }));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { endpoint, answered, connections: () => connections };
  }

  it('sends again on a new connection when a reused one turns out closed', async () => {
    const f = await factory((n) => n > 1);
    const client = new HttpFactoryClient({ allowed: ['127.0.0.1'] });
    try {
      expect(await client.execute(f.endpoint, { ...call, taskId: 'first' }, 5_000)).toMatchObject({
        ok: true,
      });
      expect(await client.execute(f.endpoint, { ...call, taskId: 'second' }, 5_000)).toMatchObject({
        ok: true,
        output: 'done',
      });
      expect(f.answered).toEqual(['first', 'second']);
      expect(f.connections()).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('reports a connection reset on a new connection as a retryable failure, sent once', async () => {
    const f = await factory(() => true);
    const client = new HttpFactoryClient({ allowed: ['127.0.0.1'] });
    try {
      const result = await client.execute(f.endpoint, call, 5_000);
      expect(result).toMatchObject({ ok: false, retryable: true, error: { kind: 'error' } });
      expect(f.connections()).toBe(1);
    } finally {
      await client.close();
    }
  });
});
