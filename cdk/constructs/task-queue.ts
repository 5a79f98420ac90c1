import type { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageSettings } from '../settings.ts';
import { consumedQueue } from './queues.ts';

export interface TaskQueueProps {
  settings: StageSettings;
  /** The manifest's `queue: 'tasks'` function and its timeout. */
  worker: IFunction;
  workerTimeout: Duration;
  /** Functions that send task messages (submission, intake, the worker's retries, callbacks). */
  senders: readonly IFunction[];
}

/**
 * The task queue: one message per step of a task, delayed for retries. The worker takes batches
 * of up to 10 and works on them at once, reporting the failed messages only (partial batch
 * failures); a message that fails three times lands in the dead-letter queue.
 */
export class TaskQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    ({ queue: this.queue, deadLetterQueue: this.deadLetterQueue } = consumedQueue(this, {
      consumerTimeout: props.workerTimeout,
      removalPolicy: props.settings.removalPolicy,
    }));
    props.worker.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    for (const sender of props.senders) this.queue.grantSendMessages(sender);
  }
}
