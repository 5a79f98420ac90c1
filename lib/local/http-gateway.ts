import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { FUNCTIONS } from '../app.ts';
import { invoke } from './functions.ts';

/** A route of the gateway: a manifest route handled by its function, or a local-only extra. */
export interface ExtraRoute {
  method: string;
  path: string;
  handle(request: {
    params: Record<string, string>;
    body: unknown;
    query: URLSearchParams;
  }): Promise<{ status: number; body: unknown }>;
}

interface CompiledRoute {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  functionId?: string;
  extra?: ExtraRoute;
}

const MAX_BODY_BYTES = 6 * 1024 * 1024; // API Gateway's payload limit

function compile(method: string, template: string): Omit<CompiledRoute, 'functionId' | 'extra'> {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, template, pattern: new RegExp(`^${source}$`), names };
}

/**
 * An HTTP server shaped like API Gateway's HTTP API: each request becomes a payload-2.0 event for
 * the manifest function of its route, exactly as in the stack, and the function's result becomes
 * the response. Literal routes win over parameterised ones, as in API Gateway.
 */
export class HttpGateway {
  readonly #routes: CompiledRoute[];
  #server: Server | undefined;

  constructor(extras: readonly ExtraRoute[] = []) {
    const routes: CompiledRoute[] = [
      ...FUNCTIONS.filter((f) => f.route).map((f) => ({
        ...compile(f.route?.method as string, f.route?.path as string),
        functionId: f.id,
      })),
      ...extras.map((extra) => ({ ...compile(extra.method, extra.path), extra })),
    ];
    // Fewer parameters first: `/modules/health` before `/modules/{name}`.
    this.#routes = routes.sort((a, b) => a.names.length - b.names.length);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.#server = createServer((req, res) => void this.#serve(req, res));
    await new Promise<void>((resolve, reject) => {
      this.#server?.once('error', reject);
      this.#server?.listen(port, host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = (req.method ?? 'GET').toUpperCase();
      const candidates = this.#routes.filter((r) => r.pattern.test(url.pathname));
      const route = candidates.find((r) => r.method === method);
      if (!route) {
        return send(res, candidates.length > 0 ? 405 : 404, {
          error: {
            type: candidates.length > 0 ? 'MethodNotAllowed' : 'NotFound',
            message: `no route ${method} ${url.pathname}`,
          },
        });
      }
      const match = route.pattern.exec(url.pathname) as RegExpExecArray;
      const params = Object.fromEntries(
        route.names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
      );
      const body = await readBody(req);
      if (route.extra) {
        let parsed: unknown;
        try {
          parsed = body ? JSON.parse(body) : undefined;
        } catch {
          return send(res, 400, { error: { type: 'BadRequest', message: 'body: malformed JSON' } });
        }
        const result = await route.extra.handle({ params, body: parsed, query: url.searchParams });
        return send(res, result.status, result.body);
      }
      const event = toEvent(req, url, method, route, params, body);
      const result = (await invoke(route.functionId as string, event)) as APIGatewayProxyResultV2;
      writeResult(res, result);
    } catch (error) {
      const tooBig = (error as Error).message === 'body too large';
      send(res, tooBig ? 413 : 500, {
        error: tooBig
          ? { type: 'PayloadTooLarge', message: `body: over ${MAX_BODY_BYTES} bytes` }
          : { type: 'InternalError', message: 'internal error' },
      });
      if (!tooBig) console.error(error);
    }
  }
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  route: CompiledRoute,
  params: Record<string, string>,
  body: string,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const routeKey = `${method} ${route.template}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters: Object.keys(params).length > 0 ? params : undefined,
    body: body === '' ? undefined : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string') {
    send(res, 200, JSON.parse(result));
    return;
  }
  const structured = result as APIGatewayProxyStructuredResultV2;
  const body = structured.body ?? '';
  res.writeHead(structured.statusCode ?? 200, {
    ...(structured.headers as Record<string, string> | undefined),
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
