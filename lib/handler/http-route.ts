import type { MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import jsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type * as z from 'zod';
import type { FieldIssue } from '../core/errors.ts';
import { assertWithin } from '../core/limits.ts';
import { errorBody } from './api-responses.ts';
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

/** The statuses a route answers when it did what was asked. */
export type SuccessStatus = 200 | 201 | 202 | 204;

export interface RouteSpec<B, Q, P> {
  /** Schema of the JSON body; without one the route takes no body. */
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  path?: z.ZodType<P>;
  /**
   * The body of each success status the route answers (shared shapes are in `api-responses.ts`):
   * the OpenAPI document describes them, and with `VOBEE_CHECK_RESPONSES=1` every answer is
   * checked against them.
   */
  responses?: Partial<Record<SuccessStatus, z.ZodType>>;
  /** The body of a route that answers with a redirect (302) whose body the caller may read. */
  redirect?: z.ZodType;
  handle(
    request: RouteRequest<B, Q, P>,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
}

/** What a route declares about its requests and answers: what `openapi.ts` describes. */
export interface RouteContract {
  body?: z.ZodType | undefined;
  query?: z.ZodType | undefined;
  path?: z.ZodType | undefined;
  responses: Partial<Record<SuccessStatus, z.ZodType>>;
  redirect?: z.ZodType | undefined;
}

/** An HTTP API handler, with the contract it was built from. */
export type RouteHandler = ((
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>) & { contract: RouteContract };

/**
 * A route answered something its contract does not allow. Only raised while
 * `VOBEE_CHECK_RESPONSES=1` (the tests); it names the route, the status and each field.
 */
export class ResponseContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseContractError';
  }
}

/**
 * Builds an API Gateway (HTTP API, payload v2) handler: logging with the request id as
 * correlation id, metrics, the route's body limit (413 before anything reads the body), header
 * normalisation, JSON body parsing, zod validation of body, query and path (400 naming each
 * field), and one error shaper for everything else.
 */
export function httpRoute<B = undefined, Q = Record<string, never>, P = Record<string, never>>(
  spec: RouteSpec<B, Q, P>,
): RouteHandler {
  const contract: RouteContract = {
    body: spec.body,
    query: spec.query,
    path: spec.path,
    responses: spec.responses ?? {},
    redirect: spec.redirect,
  };
  const handler = observed<APIGatewayProxyEventV2, APIGatewayProxyResultV2>('requestContext.requestId')
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
  // Read once, when the handler is made: in production the check costs nothing at all.
  if (process.env.VOBEE_CHECK_RESPONSES !== '1') return Object.assign(handler, { contract });
  const checked = async (event: APIGatewayProxyEventV2, context: Context) => {
    const answer = await handler(event, context);
    checkAnswer(event.routeKey, contract, answer);
    return answer;
  };
  return Object.assign(checked, { contract });
}

/**
 * Checks an answer against the route's contract: a success against its status's schema, a
 * redirect against the redirect's, a refusal or fault against the one error shape. Thrown past
 * the error shaper, so the caller (a test) sees it as it is.
 */
function checkAnswer(routeKey: string, contract: RouteContract, answer: APIGatewayProxyResultV2): void {
  const { statusCode: status = 200, body: text } = typeof answer === 'string' ? { body: answer } : answer;
  const schema =
    status < 300 ? contract.responses[status as SuccessStatus] : status < 400 ? contract.redirect : errorBody;
  if (!schema) {
    throw new ResponseContractError(`${routeKey} answered ${status}, a status its contract does not declare`);
  }
  // What the client receives: the JSON text, not the object the handler returned.
  const body = text === undefined || text === '' ? undefined : JSON.parse(text);
  const result = schema.safeParse(body);
  if (result.success) return;
  const fields = result.error.issues.map(
    (issue) => `${['body', ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
  throw new ResponseContractError(
    `${routeKey} answered ${status} with a body its contract does not allow: ${fields.join('; ')}`,
  );
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
