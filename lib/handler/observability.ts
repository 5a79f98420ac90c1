import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * One logger and one metrics buffer per process, configured by the Powertools environment
 * variables the stack sets (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`,
 * `POWERTOOLS_LOG_LEVEL`). Lambda's active tracing records every invocation in X-Ray; the
 * functions do not load a tracing SDK of their own, which would double the size of the small ones.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vobee' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'VoBee',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vobee',
  logger,
});

/**
 * Publishes the metrics an invocation added, after it and after a failure, and the cold start of
 * the process once. An invocation that added none publishes nothing (Powertools' own middleware
 * would log a warning for each).
 */
function publishMetrics(): MiddlewareObj<unknown, unknown, Error, Context> {
  const publish = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return {
    before: async (request) => {
      metrics.captureColdStartMetric(request.context.functionName);
    },
    after: publish,
    onError: publish,
  };
}

/**
 * The one way a handler is made: its log entries carry the invocation's context and a
 * correlation id read from the event at the dotted `correlationIdPath`, and its metrics are
 * published.
 */
export function observed<E, R>(correlationIdPath?: string) {
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(correlate(correlationIdPath))
    .use(publishMetrics());
}

/**
 * Sets the correlation id from a dotted path of the event. (Powertools' own option takes a
 * JMESPath expression and brings a JMESPath engine into every function: a path is all we use.)
 */
function correlate(path: string | undefined): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    before: async (request) => {
      if (path === undefined) return;
      const value = path
        .split('.')
        .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], request.event);
      if (typeof value === 'string' && value !== '') logger.setCorrelationId(value);
    },
  };
}
