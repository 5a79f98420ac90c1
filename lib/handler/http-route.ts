import type { MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import jsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import type { FieldIssue } from '../core/errors.ts';
import { assertWithin } from '../core/limits.ts';
import { bodyLimitOf } from './body-limit.ts';
import { httpErrors, json, RequestValidationError } from './http-errors.ts';
import { observed } from './observability.ts';

/** What a route handler receives: the parsed and validated parts of the request. */
export interface RouteRequest<B, Q, P> {
  body: B;
  query: Q;
  path: P;
  headers: Record<string, string | undefined>;
  event: APIGatewayProxyEventV2;
}

export interface RouteSpec<B, Q, P> {
  /** Schema of the JSON body; without one the route takes no body. */
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  path?: z.ZodType<P>;
  handle(
    request: RouteRequest<B, Q, P>,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
}

/**
 * Builds an API Gateway (HTTP API, payload v2) handler: logging with the request id as
 * correlation id, metrics, the route's body limit (413 before anything reads the body), header
 * normalisation, JSON body parsing, zod validation of body, query and path (400 naming each
 * field), and one error shaper for everything else.
 */
export function httpRoute<B = undefined, Q = Record<string, never>, P = Record<string, never>>(
  spec: RouteSpec<B, Q, P>,
) {
  return observed<APIGatewayProxyEventV2, APIGatewayProxyResultV2>('requestContext.requestId')
    .use(bodyWithinLimit())
    .use(httpHeaderNormalizer())
    .use(spec.body ? jsonBody() : noBody())
    .use(httpErrors())
    .handler(async (event) => {
      const parsed = {
        body: validate('body', spec.body, (event as { body?: unknown }).body),
        query: validate('query', spec.query, event.queryStringParameters ?? {}),
        path: validate('path', spec.path, event.pathParameters ?? {}),
      };
      const issues = Object.values(parsed).flatMap((p) => p.issues);
      if (issues.length > 0) throw new RequestValidationError(issues);
      const result = await spec.handle({
        body: parsed.body.value as B,
        query: parsed.query.value as Q,
        path: parsed.path.value as P,
        headers: event.headers ?? {},
        event,
      });
      return json(result.status, result.body, result.headers);
    });
}

function validate(
  part: string,
  schema: z.ZodType | undefined,
  value: unknown,
): { value: unknown; issues: FieldIssue[] } {
  if (!schema) return { value, issues: [] };
  const result = schema.safeParse(value);
  if (result.success) return { value: result.data, issues: [] };
  return {
    value: undefined,
    issues: result.error.issues.map((issue) => ({
      field: [part, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  };
}

/**
 * Refuses a body over its route's limit, measured in bytes as sent: the HTTP API passes bodies of
 * up to 10 MB, so the limit is ours to keep. A base64 body (binary content types) counts as the
 * bytes it decodes to.
 */
function bodyWithinLimit(): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: async ({ event }) => {
      if (!event.body) return;
      const bytes = Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
      assertWithin(bodyLimitOf(event.routeKey), bytes);
    },
  };
}

/** JSON body parsing; an empty body reads as an empty object, so optional bodies can be left out. */
function jsonBody(): MiddlewareObj<APIGatewayProxyEventV2> {
  const parser = jsonBodyParser<APIGatewayProxyEventV2>();
  return {
    before: async (request) => {
      if (request.event.body === undefined || request.event.body === '') {
        (request.event as { body?: unknown }).body = {};
        return;
      }
      await parser.before?.(request as never);
    },
  };
}

/** A route without a body refuses one, rather than silently ignoring it. */
function noBody(): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: async (request) => {
      if (request.event.body)
        throw new RequestValidationError([{ field: 'body', message: 'this route takes no body' }]);
    },
  };
}
