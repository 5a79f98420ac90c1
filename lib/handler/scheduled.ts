import type { ScheduledEvent } from 'aws-lambda';
import { logger, observed } from './observability.ts';

/** A handler run by an EventBridge schedule; what it returns is logged as the run's summary. */
export function scheduledJob<R>(name: string, job: (event: ScheduledEvent) => Promise<R>) {
  return observed<ScheduledEvent, R>('id').handler(async (event) => {
    const summary = await job(event);
    logger.info(`${name} done`, { summary });
    return summary;
  });
}
