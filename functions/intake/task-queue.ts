import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { VobeeError } from '../../lib/core/errors.ts';
import { parseIntakeMessage } from '../../lib/handler/intake-message.ts';
import { logger, metrics, observed } from '../../lib/handler/observability.ts';
import { taskSubmission } from '../../lib/wiring/task-submission.ts';

const processor = new BatchProcessor(EventType.SQS);

/**
 * The intake queue: task submissions sent to SQS directly or by the EventBridge rule for
 * `TaskRequested`. Each message is submitted once (idempotent on its key); failed messages are
 * reported as partial batch failures, retried by SQS, and end in the dead-letter queue. A message
 * refused for what it is (malformed, invalid, over a size limit) is logged with the reason, which
 * names the limit, and nothing of it is stored.
 */
async function submit(record: SQSRecord): Promise<void> {
  try {
    const { task, idempotencyKey } = parseIntakeMessage(record);
    const { created, task: stored } = await taskSubmission().submit(task, { idempotencyKey });
    logger.info(created ? 'task submitted' : 'duplicate delivery ignored', {
      taskId: stored.taskId,
      messageId: record.messageId,
    });
  } catch (error) {
    if (error instanceof VobeeError) {
      metrics.addMetric('IntakeMessagesRefused', MetricUnit.Count, 1);
      logger.warn('intake message refused', {
        messageId: record.messageId,
        bytes: Buffer.byteLength(record.body),
        reason: error.message,
      });
    }
    throw error;
  }
}

export const handler = observed<SQSEvent, SQSBatchResponse>().handler((event, context) =>
  processPartialResponse(event, submit, processor, { context }),
);
