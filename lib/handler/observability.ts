import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One logger, metrics and tracer per process, configured by the Powertools environment variables
 * the stack sets (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`).
 * Outside Lambda the tracer is off and metrics are not flushed, so local runs stay quiet.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vobee',
  // Lets `injectLambdaContext({ correlationIdPath })` find the request or task id in the event.
  correlationIdSearchFn: search,
});
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'VoBee',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vobee',
  // Its own notices (e.g. "no metrics to publish") go through the logger and its level.
  logger,
});
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vobee' });
