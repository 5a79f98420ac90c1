import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseIntakeMessage } from '../../lib/handler/intake-message.ts';
import { logger, observed } from '../../lib/handler/observability.ts';
import { taskSubmission } from '../../lib/wiring/task-submission.ts';

const processor = new BatchProcessor(EventType.SQS);

/**
 * The intake queue: task submissions sent to SQS directly or by the EventBridge rule for
 * `TaskRequested`. Each message is submitted once (idempotent on its key); failed messages are
 * reported as partial batch failures, retried by SQS, and end in the dead-letter queue.
 */
async function submit(record: SQSRecord): Promise<void> {
  const { task, idempotencyKey } = parseIntakeMessage(record);
  const { created, task: stored } = await taskSubmission().submit(task, { idempotencyKey });
  logger.info(created ? 'task submitted' : 'duplicate delivery ignored', {
    taskId: stored.taskId,
    messageId: record.messageId,
  });
}

export const handler = observed<SQSEvent, SQSBatchResponse>().handler((event, context) =>
  processPartialResponse(event, submit, processor, { context }),
);
