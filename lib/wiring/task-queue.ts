import { SQSClient } from '@aws-sdk/client-sqs';
import type { TaskQueue } from '../core/task-message.ts';
import { SqsTaskQueue } from '../queue/sqs-task-queue.ts';
import { config, memo, wiring } from './context.ts';

/** The task queue: the wiring's (the local runtime's), else the SQS queue of `VOBEE_TASK_QUEUE_URL`. */
export const taskQueue = memo((): TaskQueue => {
  const wired = wiring().taskQueue;
  if (wired) return wired;
  const url = config().taskQueueUrl;
  if (!url) throw new Error('VOBEE_TASK_QUEUE_URL is not set: this function cannot queue tasks');
  return new SqsTaskQueue(new SQSClient({}), url);
});
