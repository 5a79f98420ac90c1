import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiClient } from '../cli/client.ts';
import { LIMITS } from '../core/limits.ts';
import type { ConsoleBundle } from './build.ts';
import { CONSOLE_BASE_PATH, consolePages, type PageResponse } from './static-site.ts';

/** Request headers the console's calls carry that the API reads; everything else stays here. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'idempotency-key'] as const;
/** Answer headers worth passing back: what the body is, where an artifact redirects, how to retry. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'location', 'cache-control', 'retry-after'] as const;
/** The longest the proxy waits for the deployed API. */
const UPSTREAM_TIMEOUT_MS = 30_000;

export interface ConsoleProxyOptions {
  /** Signs each forwarded request (SigV4, `execute-api`) and knows the deployed API's base URL. */
  client: ApiClient;
  port: number;
  host?: string;
  bundle: () => Promise<ConsoleBundle>;
  fetch?: typeof fetch;
}

export interface ConsoleProxy {
  /** Where the console is: `http://127.0.0.1:PORT/console`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The console on this machine for a deployed API (`vobee console`): the same pages the local
 * runtime serves, and every other request forwarded to the API with the caller's AWS credentials,
 * since the deployed API takes only SigV4-signed requests. Artifact redirects (302 to a presigned
 * URL) are passed back as they are, so the browser downloads from the artifact store directly.
 */
export async function startConsoleProxy(options: ConsoleProxyOptions): Promise<ConsoleProxy> {
  const pages = consolePages(options.bundle);
  const send = options.fetch ?? globalThis.fetch;
  const server: Server = createServer((req, res) => {
    void serve(req, res).catch((error: Error) => {
      if (!res.headersSent) answer(res, json(502, 'ProxyError', error.message));
      else res.destroy();
    });
  });
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/' && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(302, { location: `${CONSOLE_BASE_PATH}/` });
      res.end();
      return;
    }
    const page = await pages({ method, path: url.pathname, headers: req.headers });
    if (page) return answer(res, page);
    const body = await readBody(req, LIMITS.apiBody.bytes);
    if (body === undefined) {
      return answer(res, json(413, 'PayloadTooLarge', `body: larger than ${LIMITS.apiBody.bytes} bytes`));
    }
    answer(res, await forward(options.client, send, method, url, req, body));
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}${CONSOLE_BASE_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Signs and sends one request to the deployed API, and shapes its answer (or the failure) for the browser. */
async function forward(
  client: ApiClient,
  send: typeof fetch,
  method: string,
  from: URL,
  req: IncomingMessage,
  body: string,
): Promise<PageResponse> {
  const query: Record<string, string> = {};
  for (const [key, value] of from.searchParams) query[key] = value;
  const target = client.url(from.pathname, query);
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const payload = body === '' ? undefined : body;
  let signed: Record<string, string>;
  try {
    signed = await client.sign(method, target, headers, payload);
  } catch (error) {
    return json(503, 'CredentialsError', (error as Error).message);
  }
  let response: Response;
  let bytes: Buffer;
  try {
    response = await send(target, {
      method,
      headers: signed,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    bytes = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    const timedOut = (error as Error).name === 'TimeoutError';
    return json(timedOut ? 504 : 502, 'Unreachable', `cannot reach ${target.origin}: ${reason}`);
  }
  const out: Record<string, string> = { 'content-length': String(bytes.length) };
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) out[name] = value;
  }
  return { status: response.status, headers: out, body: bytes };
}

function json(status: number, type: string, message: string): PageResponse {
  const body = Buffer.from(JSON.stringify({ error: { type, message } }), 'utf8');
  return {
    status,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  };
}

function answer(res: ServerResponse, page: PageResponse): void {
  res.writeHead(page.status, page.headers);
  res.end(page.body);
}

/** The request body as text, or undefined once it passes `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
