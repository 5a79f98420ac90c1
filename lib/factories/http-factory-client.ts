import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FactoryCaller, FactoryCallResult, FactoryRequest } from '../core/factory-call.ts';
import { LIMITS, overLimitMessage } from '../core/limits.ts';
import {
  checkedAddress,
  EndpointRefusedError,
  pinnedLookup,
  type Resolve,
  systemResolve,
} from './checked-address.ts';

export interface HttpFactoryClientOptions {
  /**
   * Private hosts, IPs or CIDRs factories may be reached on (the local runtime's own factories);
   * everything else the endpoint policy refuses is refused at connect time.
   */
  allowed?: readonly string[] | undefined;
  /** How host names are resolved before connecting (default `dns.lookup`, every address). */
  resolve?: Resolve | undefined;
  /** The clock an HTTP-date `Retry-After` is read against (epoch ms). */
  now?: (() => number) | undefined;
}

/** An answer, or why it was not read: over the size limit. */
type Body = { text: string } | { overLimit: string };

/**
 * The factory contract over HTTP: `POST {endpoint}/execute` with `{action, parameters, taskId,
 * context}` answers `{status, output}`; `GET {endpoint}/status`; `GET {endpoint}/capabilities`.
 * Failures are classified, never thrown: timeouts, network errors, 5xx and 429 may be retried on
 * the same service; other 4xx answers mean this service will not do it.
 *
 * Calls cannot be turned against the orchestrator: every request resolves its host and checks
 * each address against the endpoint policy, then connects to the address it checked
 * (`checked-address.ts`);
 * redirects are never followed (a 3xx answer is a rejected call); an answer is read as a stream and
 * abandoned as soon as it passes `LIMITS.factoryAnswer` bytes; and a `Retry-After` on 429 and 503
 * is handed back as `retryAfterMs`.
 */
export class HttpFactoryClient implements FactoryCaller {
  readonly #http = new HttpAgent({ keepAlive: true });
  readonly #https = new HttpsAgent({ keepAlive: true });
  readonly #allowed: readonly string[];
  readonly #resolve: Resolve;
  readonly #now: () => number;

  constructor(options: HttpFactoryClientOptions = {}) {
    this.#allowed = options.allowed ?? [];
    this.#resolve = options.resolve ?? systemResolve;
    this.#now = options.now ?? Date.now;
  }

  async execute(endpoint: string, request: FactoryRequest, timeoutMs: number): Promise<FactoryCallResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const signal = AbortSignal.timeout(timeoutMs);
    let answer: { status: number; headers: IncomingHttpHeaders; body: Body };
    try {
      answer = await this.#send(joinUrl(endpoint, 'execute'), signal, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
      });
    } catch (error) {
      if (error instanceof EndpointRefusedError) {
        return {
          ok: false,
          error: { kind: 'rejected', message: error.message },
          retryable: false,
          latencyMs: elapsed(),
        };
      }
      const timedOut = signal.aborted;
      return {
        ok: false,
        error: {
          kind: timedOut ? 'timeout' : 'error',
          message: timedOut
            ? `no answer within ${timeoutMs} ms`
            : `request failed: ${(error as Error).message}`,
        },
        retryable: true,
        latencyMs: elapsed(),
      };
    }
    const latencyMs = elapsed();
    const { status, headers, body } = answer;
    if (status >= 300 && status < 400) {
      return {
        ok: false,
        error: { kind: 'rejected', message: redirectMessage(status, headers), status },
        retryable: false,
        latencyMs,
      };
    }
    if ('overLimit' in body) {
      // The same service would likely answer as much again: fail over instead of retrying it.
      return {
        ok: false,
        error: { kind: 'error', message: `HTTP ${status}: ${body.overLimit}`, status },
        retryable: false,
        latencyMs,
      };
    }
    const { text } = body;
    const json = parseJson(text);
    if (status < 200 || status >= 300) {
      const retryable = status >= 500 || status === 429;
      const detail =
        typeof json === 'object' && json !== null && 'error' in json
          ? JSON.stringify((json as { error: unknown }).error)
          : text.slice(0, 200);
      const retryAfterMs =
        status === 429 || status === 503 ? parseRetryAfter(headers['retry-after'], this.#now()) : undefined;
      return {
        ok: false,
        error: { kind: retryable ? 'error' : 'rejected', message: `HTTP ${status}: ${detail}`, status },
        retryable,
        latencyMs,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    if (status === 202) {
      if (request.callbackUrl) return { ok: true, accepted: true, latencyMs };
      return {
        ok: false,
        error: {
          kind: 'rejected',
          message: 'factory answered 202 (will call back) to a call that waits for its answer',
          status: 202,
        },
        retryable: false,
        latencyMs,
      };
    }
    if (typeof json !== 'object' || json === null || (json as { status?: unknown }).status === 'failed') {
      return {
        ok: false,
        error: { kind: 'error', message: `factory reported failure: ${text.slice(0, 200)}` },
        retryable: true,
        latencyMs,
      };
    }
    const { output, cost } = json as { output?: unknown; cost?: unknown };
    return { ok: true, output: output ?? null, latencyMs, ...(isCost(cost) ? { cost } : {}) };
  }

  /** `GET {endpoint}/status`: the factory's own view of its health and capacity. */
  async status(endpoint: string, timeoutMs = 3_000): Promise<unknown> {
    return this.#getJson(joinUrl(endpoint, 'status'), timeoutMs);
  }

  /** `GET {endpoint}/capabilities`: the actions and task types the factory handles. */
  async capabilities(endpoint: string, timeoutMs = 3_000): Promise<unknown> {
    return this.#getJson(joinUrl(endpoint, 'capabilities'), timeoutMs);
  }

  /** Closes the connections this client keeps open. */
  async close(): Promise<void> {
    this.#http.destroy();
    this.#https.destroy();
  }

  async #getJson(url: string, timeoutMs: number): Promise<unknown> {
    const { status, headers, body } = await this.#send(url, AbortSignal.timeout(timeoutMs), {
      method: 'GET',
      headers: { accept: 'application/json' },
    });
    if (status >= 300 && status < 400) throw new Error(`${redirectMessage(status, headers)} (${url})`);
    if ('overLimit' in body) throw new Error(`${body.overLimit} (${url})`);
    if (status < 200 || status >= 300) throw new Error(`HTTP ${status} from ${url}`);
    return parseJson(body.text);
  }

  /**
   * One request with Node's http client, which never follows a redirect (a redirect is an answer
   * like any other). The host is resolved and every address checked first; a new connection goes
   * to the checked address (`pinnedLookup`), a kept-alive one was checked when it was opened.
   */
  async #send(
    url: string,
    signal: AbortSignal,
    options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Body }> {
    const target = new URL(url);
    const address = await checkedAddress(target.hostname, this.#allowed, this.#resolve);
    const secure = target.protocol === 'https:';
    const headers =
      options.body === undefined
        ? options.headers
        : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) };
    const attempt = () =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const sent = (secure ? httpsRequest : httpRequest)(
          target,
          {
            method: options.method,
            headers,
            agent: secure ? this.#https : this.#http,
            lookup: pinnedLookup(address),
            signal,
          },
          resolve,
        );
        sent.on('error', (error: NodeJS.ErrnoException) =>
          reject(staleConnection(sent.reusedSocket, error) ? new StaleConnection(error) : error),
        );
        sent.end(options.body);
      });
    let response: IncomingMessage | undefined;
    // A kept-alive connection the factory closed while it sat idle fails as it is reused, before the
    // factory read anything: send again. Each such failure drops one stale connection from the pool.
    while (!response) {
      try {
        response = await attempt();
      } catch (error) {
        if (!(error instanceof StaleConnection) || signal.aborted) throw error;
      }
    }
    const status = response.statusCode ?? 0;
    const redirect = status >= 300 && status < 400;
    if (redirect) abandon(response);
    return {
      status,
      headers: response.headers,
      body: redirect ? { text: '' } : await readLimited(response, response.headers['content-length']),
    };
  }
}

/** A reused kept-alive connection that was already closed by the other end. */
class StaleConnection extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

function staleConnection(reused: boolean, error: NodeJS.ErrnoException): boolean {
  return reused && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
}

interface Abandonable {
  destroy(): unknown;
  on(event: 'error', listener: () => void): unknown;
}

/** Stops reading an answer and closes its connection (the stream then reports an abort: expected). */
function abandon(body: Abandonable): void {
  body.on('error', () => {});
  body.destroy();
}

function joinUrl(endpoint: string, path: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${path}`;
}

function redirectMessage(status: number, headers: IncomingHttpHeaders): string {
  const location = typeof headers.location === 'string' ? ` to ${headers.location.slice(0, 200)}` : '';
  return `HTTP ${status}: the factory redirected${location}; redirects are not followed`;
}

/**
 * Reads an answer of at most `LIMITS.factoryAnswer.bytes` bytes: refused unread when its
 * Content-Length says more, abandoned (the connection closed) as soon as the bytes received pass
 * the limit. Bytes are counted as they arrive, whatever characters they make.
 */
export async function readLimited(
  body: AsyncIterable<Buffer> & Abandonable,
  contentLength: string | string[] | undefined,
): Promise<Body> {
  const limit = LIMITS.factoryAnswer.bytes;
  const declared = typeof contentLength === 'string' ? Number(contentLength) : Number.NaN;
  if (declared > limit) {
    abandon(body);
    return { overLimit: `${overLimitMessage('factoryAnswer', declared)} (by its Content-Length; not read)` };
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    if (bytes > limit) {
      abandon(body);
      return { overLimit: `${overLimitMessage('factoryAnswer', bytes)} (reading stopped there)` };
    }
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks, bytes).toString('utf8') };
}

/**
 * A `Retry-After` value in ms from `nowMs`: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`; a date already past is 0). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A reported cost worth keeping: a finite, non-negative number of USD. Anything else is ignored. */
export function isCost(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
