import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { NotFoundError } from '../../lib/core/errors.ts';
import { httpRoute, ResponseContractError, type RouteSpec } from '../../lib/handler/http-route.ts';
import { lambdaContext } from '../../lib/local/lambda-context.ts';
import { apiEvent } from '../helpers/events.ts';

const item = z.object({ name: z.string(), size: z.number().int() }).strict();

/** A GET /services handler made with the spec, its answer or its error. */
async function answer(spec: RouteSpec<undefined, Record<string, never>, Record<string, never>>) {
  const handler = httpRoute(spec);
  return (await handler(
    apiEvent('GET /services'),
    lambdaContext('Test'),
  )) as APIGatewayProxyStructuredResultV2;
}

describe('response contracts (VOBEE_CHECK_RESPONSES=1, as in every test run)', () => {
  const flag = process.env.VOBEE_CHECK_RESPONSES;
  afterEach(() => {
    process.env.VOBEE_CHECK_RESPONSES = flag;
  });

  it('is on for the whole test run', () => {
    expect(flag).toBe('1');
  });

  it('lets an answer that matches its declared schema through, unchanged', async () => {
    const result = await answer({
      responses: { 200: item },
      handle: async () => ({ status: 200, body: { name: 'a', size: 1 } }),
    });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body as string)).toEqual({ name: 'a', size: 1 });
  });

  it('refuses a body that does not match, naming the route, the status and each field', async () => {
    const wrong = answer({
      responses: { 200: item },
      handle: async () => ({ status: 200, body: { name: 'a', size: 1.5, extra: true } }),
    });
    await expect(wrong).rejects.toThrow(ResponseContractError);
    await expect(wrong).rejects.toThrow(
      /^GET \/services answered 200 with a body its contract does not allow: body\.size: .*; body: Unrecognized key: "extra"$/,
    );
  });

  it('checks the JSON the client receives: an undefined field is absent, not a value', async () => {
    const result = await answer({
      responses: { 200: item.extend({ note: z.string().optional() }) },
      handle: async () => ({ status: 200, body: { name: 'a', size: 1, note: undefined } }),
    });
    expect(result.statusCode).toBe(200);
  });

  it('refuses a success status the route does not declare', async () => {
    await expect(
      answer({
        responses: { 200: item },
        handle: async () => ({ status: 201, body: { name: 'a', size: 1 } }),
      }),
    ).rejects.toThrow('GET /services answered 201, a status its contract does not declare');
  });

  it('checks a redirect against its own schema', async () => {
    const redirect = z.object({ url: z.url() }).strict();
    const result = await answer({
      redirect,
      handle: async () => ({ status: 302, body: { url: 'https://example.com/x' } }),
    });
    expect(result.statusCode).toBe(302);
    await expect(
      answer({ redirect, handle: async () => ({ status: 302, body: { url: 'not a url' } }) }),
    ).rejects.toThrow(/answered 302 .*body\.url/);
  });

  it('checks refusals against the one error shape', async () => {
    const result = await answer({
      responses: { 200: item },
      handle: async () => {
        throw new NotFoundError('service', 'x');
      },
    });
    expect(result.statusCode).toBe(404);
  });

  it('exposes the contract on the handler, for the OpenAPI document', () => {
    const handler = httpRoute({
      query: z.object({}).strict(),
      responses: { 200: item },
      handle: async () => ({ status: 200, body: {} }),
    });
    expect(handler.contract.responses[200]).toBe(item);
    expect(handler.contract.body).toBeUndefined();
  });

  it('costs nothing when off: the handler is the plain one, and a wrong body goes out as it is', async () => {
    process.env.VOBEE_CHECK_RESPONSES = '0';
    const plain = httpRoute({ handle: async () => ({ status: 200, body: {} }) });
    // The middy handler itself (it has `use`), not a wrapper around it.
    expect(typeof (plain as unknown as { use?: unknown }).use).toBe('function');
    const result = await answer({
      responses: { 200: item },
      handle: async () => ({ status: 200, body: { name: 1 } }),
    });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body as string)).toEqual({ name: 1 });
  });
});
