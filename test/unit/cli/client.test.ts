import { describe, expect, it } from 'vitest';
import {
  ApiClient,
  ApiError,
  apiPath,
  ClientConfigError,
  CredentialsError,
  isLoopback,
  UnreachableError,
} from '../../../lib/cli/client.ts';

const credentials = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'secret',
  sessionToken: 'token',
});

/** A fetch that records what it was asked and answers `status` with `body`, never touching the network. */
function fakeFetch(status = 200, body: unknown = { ok: true }) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (async (url: URL | string, init: RequestInit = {}) => {
    calls.push({ url: String(url), init });
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  }) as typeof globalThis.fetch;
  return { fetch, calls, headers: (i = 0) => (calls[i]?.init.headers ?? {}) as Record<string, string> };
}

describe('isLoopback', () => {
  it.each(['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1', 'api.localhost'])(
    '%s is loopback',
    (host) => {
      expect(isLoopback(host)).toBe(true);
    },
  );
  it.each(['abc.execute-api.eu-west-1.amazonaws.com', '10.0.0.1', '128.0.0.1', 'localhost.example.com'])(
    '%s is not',
    (host) => {
      expect(isLoopback(host)).toBe(false);
    },
  );
});

describe('SigV4 signing', () => {
  it('signs requests to a non-loopback endpoint for execute-api in the region', async () => {
    const { fetch, headers } = fakeFetch();
    const client = new ApiClient({
      endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      env: {},
      fetch,
      credentials,
    });
    expect(client.signed).toBe(true);
    await client.request('POST', '/tasks', { body: { type: 'x' }, query: { a: 'b c' } });
    const sent = headers();
    expect(sent['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(sent.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(sent['x-amz-security-token']).toBe('token');
    // fetch sets Host itself from the URL, to the value that was signed.
    expect(sent.host).toBeUndefined();
  });

  it('takes the region from --region before AWS_REGION', async () => {
    const { fetch, headers } = fakeFetch();
    const client = new ApiClient({
      endpoint: 'https://api.example.com/prod',
      region: 'us-east-2',
      env: { AWS_REGION: 'eu-west-1' },
      fetch,
      credentials,
    });
    await client.request('GET', '/services');
    expect(headers().authorization).toContain('/us-east-2/execute-api/');
  });

  it('does not sign requests to loopback', async () => {
    const { fetch, headers } = fakeFetch();
    let asked = false;
    const client = new ApiClient({
      endpoint: 'http://127.0.0.1:3000',
      env: {},
      fetch,
      credentials: async () => {
        asked = true;
        return credentials();
      },
    });
    await client.request('GET', '/services');
    expect(headers().authorization).toBeUndefined();
    expect(headers()['x-amz-date']).toBeUndefined();
    expect(asked).toBe(false);
  });

  it('refuses a non-loopback endpoint without a region, naming --region', () => {
    expect(
      () => new ApiClient({ endpoint: 'https://api.example.com', env: {}, fetch: fakeFetch().fetch }),
    ).toThrow(ClientConfigError);
  });

  it('reports missing credentials as such', async () => {
    const client = new ApiClient({
      endpoint: 'https://api.example.com',
      region: 'eu-west-1',
      env: {},
      fetch: fakeFetch().fetch,
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    await expect(client.request('GET', '/services')).rejects.toThrow(CredentialsError);
  });
});

describe('ApiClient', () => {
  it('uses VOBEE_ENDPOINT, then the local runtime', () => {
    const fetch = fakeFetch().fetch;
    expect(new ApiClient({ env: {}, fetch }).baseUrl.href).toBe('http://127.0.0.1:3000/');
    expect(new ApiClient({ env: { VOBEE_ENDPOINT: 'http://localhost:4000' }, fetch }).baseUrl.href).toBe(
      'http://localhost:4000/',
    );
    expect(() => new ApiClient({ env: { VOBEE_ENDPOINT: 'localhost:4000' }, fetch })).toThrow(
      /VOBEE_ENDPOINT/,
    );
  });

  it('keeps the base path (an API stage) and encodes path segments and query values', () => {
    const client = new ApiClient({
      endpoint: 'http://localhost:3000/prod/',
      env: {},
      fetch: fakeFetch().fetch,
    });
    expect(client.url(apiPath('services', 'a:b/c'), { q: 'x y', skip: undefined }).href).toBe(
      'http://localhost:3000/prod/services/a%3Ab%2Fc?q=x%20y',
    );
  });

  it('sends JSON and returns the status with the parsed body', async () => {
    const { fetch, calls, headers } = fakeFetch(202, { taskId: 't_1' });
    const client = new ApiClient({ env: {}, fetch });
    const response = await client.request('POST', '/tasks', { body: { type: 'x' } });
    expect(response).toEqual({ status: 202, body: { taskId: 't_1' } });
    expect(calls[0]?.init.body).toBe('{"type":"x"}');
    expect(headers()['content-type']).toBe('application/json');
  });

  it("reads the API's error shape", async () => {
    const body = {
      error: {
        type: 'ValidationError',
        message: 'type: required',
        issues: [{ field: 'body.type', message: 'required' }],
      },
    };
    const client = new ApiClient({ env: {}, fetch: fakeFetch(400, body).fetch });
    const error = await client.request('POST', '/tasks').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, type: 'ValidationError', issues: [{ field: 'body.type' }] });
  });

  it("reads API Gateway's own error shape too", async () => {
    const client = new ApiClient({
      endpoint: 'https://api.example.com',
      region: 'eu-west-1',
      env: {},
      fetch: fakeFetch(403, { message: 'Forbidden' }).fetch,
      credentials,
    });
    await expect(client.request('GET', '/services')).rejects.toMatchObject({
      status: 403,
      message: 'Forbidden',
    });
  });

  it('turns a refused connection into UnreachableError naming the URL', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }) as unknown as typeof globalThis.fetch;
    const error = await new ApiClient({ env: {}, fetch })
      .request('GET', '/services')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error).toMatchObject({
      url: 'http://127.0.0.1:3000',
      reason: 'connection refused',
      loopback: true,
    });
  });
});
