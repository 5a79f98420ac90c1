import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/** A request as the fake API recorded it. */
export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
}
export type Answer = { status: number; body: unknown };

/**
 * A fake VoBee API on loopback for CLI tests: each route answers canned JSON in the shapes the
 * handlers in functions/api return (an answer may depend on how often the route was called, to
 * script a run poll by poll), and every request is recorded. Routes, records and call counts are
 * reset before each test.
 */
export function useFakeApi() {
  const recorded: Recorded[] = [];
  const routes = new Map<string, (request: Recorded, n: number) => Answer>();
  const counts = new Map<string, number>();
  let server: Server;
  let endpoint = '';

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake');
      const request: Recorded = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: text === '' ? undefined : JSON.parse(text),
      };
      recorded.push(request);
      const key = `${request.method} ${decodeURIComponent(request.path)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const handler = routes.get(key);
      const answer = handler
        ? handler(request, counts.get(key) ?? 1)
        : { status: 404, body: { error: { type: 'NotFound', message: `no route ${key}` } } };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    recorded.length = 0;
    routes.clear();
    counts.clear();
  });

  return {
    recorded,
    get endpoint() {
      return endpoint;
    },
    on(route: string, answer: Answer | ((request: Recorded, n: number) => Answer)) {
      routes.set(route, typeof answer === 'function' ? answer : () => answer);
    },
  };
}

/** A stream stand-in that keeps what is written to it. */
export function sink(isTTY = false) {
  const sink = { text: '', isTTY, write: (chunk: string) => (sink.text += chunk) };
  return sink;
}
