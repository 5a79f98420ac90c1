import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../lib/local/runtime.ts';

/** The local runtime in memory on free ports, with retries waiting 50 ms instead of seconds. */
export async function startTestRuntime(
  options: Partial<LocalRuntimeOptions> = {},
): Promise<LocalRuntime & { api: Api }> {
  const runtime = await startLocalRuntime({
    port: 0,
    dbPort: 0,
    dataDir: undefined,
    tablePrefix: `t${Math.random().toString(36).slice(2, 10)}`,
    schedules: false,
    retryIntervalMs: 50,
    ...options,
  });
  return { ...runtime, api: apiClient(runtime.apiUrl) };
}

export type Api = ReturnType<typeof apiClient>;

/** JSON over HTTP against the runtime's API, returning status and body. */
export function apiClient(baseUrl: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: test code reads many response shapes
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) =>
      call('POST', path, body, headers),
    put: (path: string, body?: unknown) => call('PUT', path, body),
    /** Polls `GET path` until `done(body)` holds, or fails after `timeoutMs`. */
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field in tests
    async until(path: string, done: (body: any) => boolean, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await call('GET', path);
        if (done(body)) return body;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting on ${path}: ${JSON.stringify(body).slice(0, 500)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
