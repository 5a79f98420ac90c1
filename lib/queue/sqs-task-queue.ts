import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_QUEUE_DELAY_SECONDS, type TaskMessage, type TaskQueue } from '../core/task-message.ts';

/** The task queue on SQS: a message per task step, delayed with `DelaySeconds` for retries. */
export class SqsTaskQueue implements TaskQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;

  constructor(client: SQSClient, queueUrl: string) {
    this.#client = client;
    this.#queueUrl = queueUrl;
  }

  async send(message: TaskMessage, delaySeconds = 0): Promise<void> {
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.max(0, Math.min(Math.ceil(delaySeconds), MAX_QUEUE_DELAY_SECONDS)),
      }),
    );
  }
}
