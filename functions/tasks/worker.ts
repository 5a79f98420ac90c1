import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseTaskMessage } from '../../lib/core/task-message.ts';
import { metrics, observed } from '../../lib/handler/observability.ts';
import { taskWorker } from '../../lib/wiring/task-worker.ts';

const processor = new BatchProcessor(EventType.SQS);

/**
 * The task queue's worker: each message takes a task one step further in this one invocation
 * (decide, route, call the factory with failover, save). Messages of a batch are worked on at
 * once; a failed one is reported as a partial batch failure and delivered again.
 */
async function work(record: SQSRecord): Promise<void> {
  const message = parseTaskMessage(record.body);
  const done = await taskWorker().process(message, {
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1),
  });
  metrics.addMetric(`Task${done.result[0]}${done.result.slice(1).toLowerCase()}`, MetricUnit.Count, 1);
  if (done.calls > 0) metrics.addMetric('FactoryCalls', MetricUnit.Count, done.calls);
  if ('routedBy' in done && done.routedBy) metrics.addMetric('TasksRouted', MetricUnit.Count, 1);
}

export const handler = observed<SQSEvent, SQSBatchResponse>().handler((event, context) =>
  processPartialResponse(event, work, processor, { context }),
);
