import { type Dispatcher, request } from 'undici';
import type { FactoryCaller, FactoryCallResult, FactoryRequest } from '../core/factory-call.ts';
import { LIMITS, overLimitMessage } from '../core/limits.ts';
import { EndpointRefusedError, guardedAgent, type Resolve } from './guarded-agent.ts';

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

type IncomingHttpHeaders = Dispatcher.ResponseData['headers'];

/** An answer, or why it was not read: over the size limit. */
type Body = { text: string } | { overLimit: string };

/**
 * The factory contract over HTTP: `POST {endpoint}/execute` with `{action, parameters, taskId,
 * context}` answers `{status, output}`; `GET {endpoint}/status`; `GET {endpoint}/capabilities`.
 * Failures are classified, never thrown: timeouts, network errors, 5xx and 429 may be retried on
 * the same service; other 4xx answers mean this service will not do it.
 *
 * Calls cannot be turned against the orchestrator: every connection goes through an agent that
 * checks the address actually connected to against the endpoint policy (`guarded-agent.ts`);
 * redirects are never followed (a 3xx answer is a rejected call); an answer is read as a stream and
 * abandoned as soon as it passes `LIMITS.factoryAnswer` bytes; and a `Retry-After` on 429 and 503
 * is handed back as `retryAfterMs`.
 */
export class HttpFactoryClient implements FactoryCaller {
  readonly #dispatcher: Dispatcher;
  readonly #now: () => number;

  constructor(options: HttpFactoryClientOptions = {}) {
    this.#dispatcher = guardedAgent({ allowed: options.allowed, resolve: options.resolve });
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
    return { ok: true, output: (json as { output?: unknown }).output ?? null, latencyMs };
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
    await this.#dispatcher.close();
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

  /** One request through the guarded agent; a redirect is an answer like any other, never followed. */
  async #send(
    url: string,
    signal: AbortSignal,
    options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Body }> {
    const response = await request(url, { ...options, dispatcher: this.#dispatcher, signal });
    const redirect = response.statusCode >= 300 && response.statusCode < 400;
    if (redirect) abandon(response.body);
    return {
      status: response.statusCode,
      headers: response.headers,
      body: redirect ? { text: '' } : await readLimited(response.body, response.headers['content-length']),
    };
  }
}

interface Abandonable {
  destroy(): unknown;
  on(event: 'error', listener: () => void): unknown;
}

/** Stops reading an answer and closes its connection (undici reports that as an abort: expected). */
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
