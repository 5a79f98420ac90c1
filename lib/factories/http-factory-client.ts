import type { FactoryCaller, FactoryCallResult, FactoryRequest } from '../core/factory-call.ts';

/** The largest factory answer read into memory; bigger answers are refused as errors. */
const MAX_RESPONSE_BYTES = 1_000_000;

/**
 * The factory contract over HTTP: `POST {endpoint}/execute` with `{action, parameters, taskId,
 * context}` answers `{status, output}`; `GET {endpoint}/status`; `GET {endpoint}/capabilities`.
 * Failures are classified, never thrown: timeouts, network errors, 5xx and 429 may be retried on
 * the same service; other 4xx answers mean this service will not do it.
 */
export class HttpFactoryClient implements FactoryCaller {
  readonly #fetch: typeof fetch;
  constructor(fetchImpl: typeof fetch = fetch) {
    this.#fetch = fetchImpl;
  }

  async execute(endpoint: string, request: FactoryRequest, timeoutMs: number): Promise<FactoryCallResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let response: Response;
    try {
      response = await this.#fetch(joinUrl(endpoint, 'execute'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
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
    const text = await readLimited(response);
    const latencyMs = elapsed();
    const body = parseJson(text);
    if (!response.ok) {
      const retryable = response.status >= 500 || response.status === 429;
      const detail =
        typeof body === 'object' && body !== null && 'error' in body
          ? JSON.stringify((body as { error: unknown }).error)
          : text.slice(0, 200);
      return {
        ok: false,
        error: {
          kind: retryable ? 'error' : 'rejected',
          message: `HTTP ${response.status}: ${detail}`,
          status: response.status,
        },
        retryable,
        latencyMs,
      };
    }
    if (response.status === 202) {
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
    if (typeof body !== 'object' || body === null || (body as { status?: unknown }).status === 'failed') {
      return {
        ok: false,
        error: { kind: 'error', message: `factory reported failure: ${text.slice(0, 200)}` },
        retryable: true,
        latencyMs,
      };
    }
    return { ok: true, output: (body as { output?: unknown }).output ?? null, latencyMs };
  }

  /** `GET {endpoint}/status`: the factory's own view of its health and capacity. */
  async status(endpoint: string, timeoutMs = 3_000): Promise<unknown> {
    return this.#getJson(joinUrl(endpoint, 'status'), timeoutMs);
  }

  /** `GET {endpoint}/capabilities`: the actions and task types the factory handles. */
  async capabilities(endpoint: string, timeoutMs = 3_000): Promise<unknown> {
    return this.#getJson(joinUrl(endpoint, 'capabilities'), timeoutMs);
  }

  async #getJson(url: string, timeoutMs: number): Promise<unknown> {
    const response = await this.#fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await readLimited(response);
    if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
    return parseJson(text);
  }
}

function joinUrl(endpoint: string, path: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${path}`;
}

async function readLimited(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    return JSON.stringify({
      status: 'failed',
      error: `answer of ${declared} bytes is over the ${MAX_RESPONSE_BYTES} limit`,
    });
  }
  const text = await response.text();
  return text.length > MAX_RESPONSE_BYTES
    ? JSON.stringify({ status: 'failed', error: 'answer over the size limit' })
    : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
