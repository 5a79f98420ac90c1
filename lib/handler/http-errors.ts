import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import {
  ConflictError,
  type FieldIssue,
  NoRouteError,
  NotFoundError,
  NotReadyError,
  PayloadTooLargeError,
  ValidationError,
  VobeeError,
} from '../core/errors.ts';
import { logger, metrics } from './observability.ts';

/** The request itself is malformed (body, query, path, headers): 400. Domain rule breaks stay 422. */
export class RequestValidationError extends ValidationError {
  constructor(issues: FieldIssue[], options?: { cause?: unknown }) {
    super(issues, options);
    this.name = 'RequestValidationError';
  }
}

/** The one place where an error becomes an HTTP status. */
export function statusOf(error: unknown): number {
  if (error instanceof RequestValidationError) return 400;
  if (error instanceof ValidationError || error instanceof NoRouteError) return 422;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof NotReadyError) return 503;
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  // Errors raised by middy middlewares (415, malformed JSON...) carry their own status; a body
  // that is not JSON at all is a malformed request, 400, like any other.
  if (status === 422) return 400;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * Shapes every error as `{ error: { type, message, issues? } }`. Faults (500) say only that
 * something went wrong and give the request id; their details go to the log.
 */
export function httpErrors(): MiddlewareObj<unknown, APIGatewayProxyResultV2> {
  return {
    onError: async (request) => {
      const error = request.error as Error;
      const status = statusOf(error);
      metrics.addMetric(status === 500 ? 'ServerErrors' : 'ClientErrors', MetricUnit.Count, 1);
      if (status === 500) {
        logger.error('request failed', { error });
        request.response = json(500, {
          error: {
            type: 'InternalError',
            message: 'internal error',
            requestId: request.context.awsRequestId,
          },
        });
        return;
      }
      logger.info('request refused', { status, error: error.message });
      request.response = refusal(error, status);
    },
  };
}

/**
 * The answer to a refused request (4xx), the same from every handler and from the local gateway's
 * own refusals (a body over its limit, a malformed path).
 */
export function refusal(error: Error, status: number = statusOf(error)): APIGatewayProxyResultV2 {
  // Not one of ours: a middleware refused the request itself (content type, JSON syntax).
  const fromMiddleware = !(error instanceof VobeeError);
  const message = fromMiddleware ? `body: ${error.message}` : error.message;
  const retryAfter =
    error instanceof NotReadyError ? { 'retry-after': String(error.retryAfterSeconds) } : undefined;
  return json(
    status,
    {
      error: {
        type: fromMiddleware ? 'BadRequest' : typeOf(error),
        message,
        ...(error instanceof ValidationError ? { issues: error.issues } : {}),
        ...(fromMiddleware ? { issues: [{ field: 'body', message: error.message }] } : {}),
      },
    },
    retryAfter,
  );
}

/** The `type` of an answer: the error's class, one type for every validation error, HTTP's name for 413. */
function typeOf(error: Error): string {
  if (error instanceof ValidationError) return 'ValidationError';
  if (error instanceof PayloadTooLargeError) return 'PayloadTooLarge';
  return error.name;
}
