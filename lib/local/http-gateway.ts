import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { FUNCTIONS } from '../app.ts';
import type { PageHandler, PageResponse } from '../console/static-site.ts';
import { PayloadTooLargeError } from '../core/errors.ts';
import { LIMITS, type LimitName, overLimitMessage } from '../core/limits.ts';
import { bodyLimitOf } from '../handler/body-limit.ts';
import { RequestValidationError, refusal } from '../handler/http-errors.ts';
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
  /** The limit of its body, as the route's handler applies it. */
  bodyLimit: LimitName;
  functionId?: string;
  extra?: ExtraRoute;
}

function compile(method: string, template: string): Omit<CompiledRoute, 'functionId' | 'extra'> {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return {
    method,
    template,
    pattern: new RegExp(`^${source}$`),
    names,
    bodyLimit: bodyLimitOf(`${method} ${template}`),
  };
}

/**
 * An HTTP server shaped like API Gateway's HTTP API: each request becomes a payload-2.0 event for
 * the manifest function of its route, exactly as in the stack, and the function's result becomes
 * the response. Literal routes win over parameterised ones, as in API Gateway.
 */
export class HttpGateway {
  readonly #routes: CompiledRoute[];
  /** Local-only pages (the console), asked before the API's routes. */
  readonly #pages: readonly PageHandler[];
  #server: Server | undefined;

  constructor(extras: readonly ExtraRoute[] = [], pages: readonly PageHandler[] = []) {
    this.#pages = pages;
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
    // `Expect: 100-continue`: the client waits for a go-ahead, given only to a body within its limit.
    this.#server.on('checkContinue', (req, res) => void this.#serve(req, res, true));
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

  async #serve(req: IncomingMessage, res: ServerResponse, expectsContinue = false): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = (req.method ?? 'GET').toUpperCase();
      for (const page of this.#pages) {
        const answer = await page({ method, path: url.pathname, headers: req.headers });
        if (answer) return writePage(req, res, answer);
      }
      const candidates = this.#routes.filter((r) => r.pattern.test(url.pathname));
      const route = candidates.find((r) => r.method === method);
      if (!route) {
        return send(req, res, candidates.length > 0 ? 405 : 404, {
          error: {
            type: candidates.length > 0 ? 'MethodNotAllowed' : 'NotFound',
            message: `no route ${method} ${url.pathname}`,
          },
        });
      }
      const params = pathParameters(route, url.pathname);
      if (params instanceof RequestValidationError) return writeResult(req, res, refusal(params));
      const body = await readBody(req, LIMITS[route.bodyLimit].bytes, expectsContinue ? res : undefined);
      if (body.over) {
        const tooLarge = new PayloadTooLargeError(overLimitMessage(route.bodyLimit, body.declared));
        return writeResult(req, res, refusal(tooLarge));
      }
      if (route.extra) {
        let parsed: unknown;
        try {
          parsed = body.text ? JSON.parse(body.text) : undefined;
        } catch {
          return send(req, res, 400, { error: { type: 'BadRequest', message: 'body: malformed JSON' } });
        }
        const result = await route.extra.handle({ params, body: parsed, query: url.searchParams });
        return send(req, res, result.status, result.body);
      }
      const event = toEvent(req, url, method, route, params, body.text);
      const result = (await invoke(route.functionId as string, event)) as APIGatewayProxyResultV2;
      writeResult(req, res, result);
    } catch (error) {
      // The client went away while sending its body: there is no one to answer.
      if (error instanceof BodyAborted) return;
      send(req, res, 500, { error: { type: 'InternalError', message: 'internal error' } });
      console.error(error);
    }
  }
}

/**
 * The route's path parameters, percent-decoded; a malformed escape (`%`, `%E0%A4%A`) is the
 * caller's mistake, answered 400 as API Gateway does, with the handlers' answer shape.
 */
function pathParameters(route: CompiledRoute, path: string): Record<string, string> | RequestValidationError {
  const match = route.pattern.exec(path) as RegExpExecArray;
  const params: Record<string, string> = {};
  for (const [i, name] of route.names.entries()) {
    const raw = match[i + 1] ?? '';
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      return new RequestValidationError([
        { field: `path.${name}`, message: `'${raw}' is not valid percent-encoding` },
      ]);
    }
  }
  return params;
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

function writeResult(req: IncomingMessage, res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string') {
    send(req, res, 200, JSON.parse(result));
    return;
  }
  const structured = result as APIGatewayProxyStructuredResultV2;
  const body = structured.body ?? '';
  res.writeHead(structured.statusCode ?? 200, {
    ...(structured.headers as Record<string, string> | undefined),
    'content-length': Buffer.byteLength(body),
    ...closeUnlessRead(req),
  });
  res.end(body);
}

function writePage(req: IncomingMessage, res: ServerResponse, page: PageResponse): void {
  res.writeHead(page.status, { ...page.headers, ...closeUnlessRead(req) });
  res.end(page.body);
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...closeUnlessRead(req),
  });
  res.end(text);
}

/**
 * An answer given before the request's body was read (refused for its size, its route or its
 * path) closes the connection once sent: the rest of the body is never read, where keeping the
 * connection would mean reading it all to find the next request.
 */
function closeUnlessRead(req: IncomingMessage): Record<string, string> {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  return hasBody && !req.complete ? { connection: 'close' } : {};
}

/** The client closed the connection before the end of its body. */
class BodyAborted extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the client closed the connection while sending its body', options);
    this.name = 'BodyAborted';
  }
}

/** A request body: its text, or `over` its limit (`declared` is the size its Content-Length gave). */
type Body = { over: false; text: string } | { over: true; declared?: number };

/**
 * Reads the body up to `limit` bytes. A Content-Length over the limit is refused before a byte is
 * read; a body sent without one (chunked) is read until it passes the limit, and no further: the
 * request is paused there, so the socket stops reading and the client's sending stalls until the
 * 413 reaches it and the connection closes. A client awaiting `100 Continue` is told to go on
 * only when its Content-Length is within the limit.
 */
function readBody(req: IncomingMessage, limit: number, awaitingContinue?: ServerResponse): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) return Promise.resolve({ over: true, declared });
  awaitingContinue?.writeContinue();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        req.pause();
        resolve({ over: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve({ over: false, text: Buffer.concat(chunks).toString('utf8') });
    };
    const onError = (error?: Error) => {
      stop();
      reject(new BodyAborted({ cause: error }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onError);
  });
}
