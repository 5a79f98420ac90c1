import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import type { Orchestrator } from '../orchestrator.ts';
import { logger, metrics, tracer } from './observability.ts';
import { orchestrator } from './runtime.ts';

/** A handler run by an EventBridge schedule; what it returns is logged as the run's summary. */
export function scheduledJob<R>(
  name: string,
  job: (orchestrator: Orchestrator, event: ScheduledEvent) => Promise<R>,
) {
  return middy<ScheduledEvent, R>()
    .use(injectLambdaContext(logger, { correlationIdPath: 'id', resetKeys: true }))
    .use(logMetrics(metrics))
    .use(captureLambdaHandler(tracer))
    .handler(async (event) => {
      const summary = await job(orchestrator(), event);
      logger.info(`${name} done`, { summary });
      return summary;
    });
}
