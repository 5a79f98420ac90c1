import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

interface Message {
  record: SQSRecord;
  receiveCount: number;
  visibleAt: number;
}

export interface DeadLetter {
  record: SQSRecord;
  receiveCount: number;
  failedAt: string;
}

/**
 * An in-process stand-in for an SQS queue with a dead-letter queue: messages are delivered to the
 * consumer in batches as real `SQSEvent`s; the ids the consumer reports as failed (partial batch
 * response) come back after the visibility timeout, and after `maxReceiveCount` receives go to
 * the dead-letter list, as with a redrive policy.
 */
export class LocalQueue {
  readonly #messages: Message[] = [];
  readonly #deadLetters: DeadLetter[] = [];
  readonly #consumer: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  readonly #options: {
    name: string;
    batchSize: number;
    visibilityTimeoutMs: number;
    maxReceiveCount: number;
    pollMs: number;
  };
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;

  constructor(
    consumer: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>,
    options: Partial<{
      name: string;
      batchSize: number;
      visibilityTimeoutMs: number;
      maxReceiveCount: number;
      pollMs: number;
    }> = {},
  ) {
    this.#consumer = consumer;
    this.#options = {
      name: 'intake',
      batchSize: 10,
      visibilityTimeoutMs: 1_000,
      maxReceiveCount: 3,
      pollMs: 50,
      ...options,
    };
  }

  /** Sends a message; returns its id. */
  send(body: string, attributes: Record<string, string> = {}): string {
    const messageId = randomUUID();
    this.#messages.push({
      receiveCount: 0,
      visibleAt: Date.now(),
      record: {
        messageId,
        receiptHandle: randomUUID(),
        body,
        attributes: {
          ApproximateReceiveCount: '0',
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { stringValue: value, dataType: 'String', stringListValues: [], binaryListValues: [] },
          ]),
        ),
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:local:000000000000:${this.#options.name}`,
        awsRegion: 'local',
      },
    });
    this.#kick();
    return messageId;
  }

  get depth(): number {
    return this.#messages.length;
  }

  get deadLetters(): readonly DeadLetter[] {
    return this.#deadLetters;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#kick(), this.#options.pollMs);
    this.#timer.unref();
  }

  /** Stops polling and waits for the batch in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#draining;
  }

  /** Delivers until nothing visible is left (tests and `--once` runs). */
  async drain(): Promise<void> {
    while (this.#visible().length > 0 || this.#draining) {
      this.#kick();
      await this.#draining;
    }
  }

  #visible(): Message[] {
    const now = Date.now();
    return this.#messages.filter((m) => m.visibleAt <= now);
  }

  #kick(): void {
    if (this.#draining) return;
    const batch = this.#visible().slice(0, this.#options.batchSize);
    if (batch.length === 0) return;
    this.#draining = this.#deliver(batch).finally(() => {
      this.#draining = undefined;
    });
  }

  async #deliver(batch: Message[]): Promise<void> {
    for (const message of batch) {
      message.receiveCount++;
      message.visibleAt = Date.now() + this.#options.visibilityTimeoutMs;
      message.record.attributes.ApproximateReceiveCount = String(message.receiveCount);
    }
    let failed: Set<string>;
    try {
      const response = await this.#consumer({ Records: batch.map((m) => m.record) });
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(batch.map((m) => m.record.messageId)); // the whole batch failed
    }
    for (const message of batch) {
      const index = this.#messages.indexOf(message);
      if (!failed.has(message.record.messageId)) {
        this.#messages.splice(index, 1);
      } else if (message.receiveCount >= this.#options.maxReceiveCount) {
        this.#messages.splice(index, 1);
        this.#deadLetters.push({
          record: message.record,
          receiveCount: message.receiveCount,
          failedAt: new Date().toISOString(),
        });
      }
    }
  }
}
