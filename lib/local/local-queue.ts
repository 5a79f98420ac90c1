import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** How a delivery of one message ended: deleted, back after its visibility timeout, or dead-lettered. */
export type SettleOutcome = 'acknowledged' | 'retry' | 'dead-letter';

/** A message that failed `maxReceiveCount` receives, as the dead-letter queue would hold it. */
export interface DeadLetter {
  record: SQSRecord;
  receiveCount: number;
  failedAt: string;
}

export interface SendOptions {
  /** Seconds before the message can be received: an integer from 0 to 900, like SQS `DelaySeconds`. */
  delaySeconds?: number;
  /** String message attributes, delivered as the record's `messageAttributes`. */
  attributes?: Record<string, string>;
}

export interface LocalQueueOptions {
  /** Queue name, the last part of the records' `eventSourceARN` (default `intake`). */
  name?: string;
  /** Most messages in one batch (default 10). */
  batchSize?: number;
  /** How long a received message stays invisible before it can be received again (default 1 000 ms). */
  visibilityTimeoutMs?: number;
  /** Receives after which a failing message moves to the dead letters (default 3), as a redrive policy. */
  maxReceiveCount?: number;
  /** Most batches in flight at once (default 10), like the concurrent batches of Lambda's SQS poller. */
  concurrency?: number;
  /** Folder that keeps messages and dead letters across restarts; without it everything stays in memory. */
  directory?: string;
  /** Warnings worth showing a person: corrupt files set aside, dead letters, failed writes. */
  log?: (line: string) => void;
  /** Called once a delivered message's outcome is settled (and stored, with a `directory`). */
  onSettled?: (record: SQSRecord, outcome: SettleOutcome) => void;
}

/** A message as held in memory and stored in `messages/<messageId>.json`. */
interface Message {
  /** The record as last delivered; `ApproximateReceiveCount` follows `receiveCount`. */
  record: SQSRecord;
  receiveCount: number;
  /** Epoch ms from which the message can be received (delay, then visibility deadline). */
  visibleAt: number;
  /** Order of sending, which breaks ties between messages visible at the same time. */
  sequence: number;
}

/** A dead letter as stored in `dead-letters/<messageId>.json`. */
interface StoredDeadLetter extends DeadLetter {
  sequence: number;
}

const MAX_DELAY_SECONDS = 900;
// setTimeout fires at once for longer delays; a clock change can put a stored visibleAt that far away.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * An in-process stand-in for an SQS standard queue with a redrive policy to a dead-letter queue,
 * feeding one consumer the way Lambda's event source mapping does: messages arrive in batches as
 * real `SQSEvent`s, up to `concurrency` batches at once; a consumer that throws fails its whole
 * batch, the ids it reports in `batchItemFailures` come back after the visibility timeout, and a
 * message received `maxReceiveCount` times without success moves to the dead letters.
 *
 * Delivery is at least once, as with SQS: a message whose delivery was not settled (the process
 * died) is received again. Unlike SQS, the queue lives in this process and is read by one
 * consumer; batches are filled in exact order (visibility time, then send order) where SQS's
 * order is best effort; and a message whose batch outlives the visibility timeout is not handed to a second batch
 * until the first one settles. With a `directory`, every message is a JSON file written before
 * `send` returns, so queued, delayed and in-flight messages and the dead letters survive a
 * restart; only one queue at a time may use a directory.
 *
 * Nothing is delivered before `start()` (or `drain()`); there is no poll interval: sending, a
 * settled batch and a timer at the earliest visibility time are what start deliveries.
 */
export class LocalQueue {
  readonly #consumer: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  readonly #settings: {
    name: string;
    batchSize: number;
    visibilityTimeoutMs: number;
    maxReceiveCount: number;
    concurrency: number;
  };
  readonly #log: (line: string) => void;
  readonly #onSettled: ((record: SQSRecord, outcome: SettleOutcome) => void) | undefined;
  readonly #folder: QueueFolder | undefined;
  /** Every message not yet acknowledged or dead-lettered, in flight or not. */
  readonly #messages = new Map<string, Message>();
  /** The messages not in flight, earliest visible first. */
  readonly #waiting = new MessageHeap();
  readonly #deadLetters: DeadLetter[] = [];
  readonly #batches = new Set<Promise<void>>();
  #inFlight = 0;
  #nextSequence = 0;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;

  constructor(
    consumer: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>,
    options: LocalQueueOptions = {},
  ) {
    this.#consumer = consumer;
    this.#settings = {
      name: options.name ?? 'intake',
      batchSize: positiveInteger('batchSize', options.batchSize ?? 10),
      visibilityTimeoutMs: options.visibilityTimeoutMs ?? 1_000,
      maxReceiveCount: positiveInteger('maxReceiveCount', options.maxReceiveCount ?? 3),
      concurrency: positiveInteger('concurrency', options.concurrency ?? 10),
    };
    if (!(this.#settings.visibilityTimeoutMs >= 0)) {
      throw new RangeError(`visibilityTimeoutMs must be >= 0, got ${this.#settings.visibilityTimeoutMs}`);
    }
    this.#log = options.log ?? (() => {});
    this.#onSettled = options.onSettled;
    if (options.directory !== undefined) {
      this.#folder = new QueueFolder(options.directory, this.#log);
      const { messages, deadLetters } = this.#folder.load();
      for (const message of messages) {
        this.#messages.set(message.record.messageId, message);
        this.#waiting.push(message);
      }
      for (const { record, receiveCount, failedAt } of deadLetters) {
        this.#deadLetters.push({ record, receiveCount, failedAt });
      }
      this.#nextSequence = [...messages, ...deadLetters].reduce(
        (next, m) => Math.max(next, m.sequence + 1),
        0,
      );
    }
  }

  /**
   * Sends a message and returns its id. With a `directory` the message is on disk when this
   * returns; it is never delivered from inside this call.
   */
  send(body: string, options: SendOptions = {}): string {
    const delaySeconds = options.delaySeconds ?? 0;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
      throw new RangeError(
        `delaySeconds must be an integer from 0 to ${MAX_DELAY_SECONDS}, got ${delaySeconds}`,
      );
    }
    const messageId = randomUUID();
    const now = Date.now();
    const message: Message = {
      receiveCount: 0,
      visibleAt: now + delaySeconds * 1_000,
      sequence: this.#nextSequence++,
      record: {
        messageId,
        receiptHandle: randomUUID(),
        body,
        attributes: {
          ApproximateReceiveCount: '0',
          SentTimestamp: String(now),
          SenderId: 'local',
          // Replaced on the first receive; the type wants a value before it.
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: Object.fromEntries(
          Object.entries(options.attributes ?? {}).map(([name, value]) => [
            name,
            { stringValue: value, dataType: 'String', stringListValues: [], binaryListValues: [] },
          ]),
        ),
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:local:000000000000:${this.#settings.name}`,
        awsRegion: 'local',
      },
    };
    // Stored before it is queued: if the write fails, send throws and nothing was accepted.
    this.#folder?.saveMessage(message);
    this.#messages.set(messageId, message);
    this.#waiting.push(message);
    this.#pump();
    return messageId;
  }

  /** Messages not yet acknowledged or dead-lettered: visible, delayed and in flight. */
  get depth(): number {
    return this.#messages.size;
  }

  /** Messages handed to the consumer whose outcome is not settled yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get deadLetters(): readonly DeadLetter[] {
    return this.#deadLetters;
  }

  /** Starts delivering, now and whenever a message becomes visible or a consumer slot frees up. */
  start(): void {
    this.#running = true;
    this.#pump();
  }

  /** Stops delivering and waits for the batches in flight to settle. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#arm();
    while (this.#batches.size > 0) await Promise.allSettled(this.#batches);
  }

  /**
   * Delivers, started or not, until nothing visible or in flight is left (tests and `--once`
   * runs). Delayed messages and failures waiting out their visibility timeout stay queued.
   */
  async drain(): Promise<void> {
    for (;;) {
      this.#pump(true);
      if (this.#batches.size === 0) return;
      await Promise.race(this.#batches);
    }
  }

  /** Fills the free consumer slots with batches of visible messages, then sets the timer. */
  #pump(force = false): void {
    if (!this.#running && !force) return;
    while (this.#batches.size < this.#settings.concurrency) {
      const batch = this.#takeVisible();
      if (batch.length === 0) break;
      this.#launch(batch);
    }
    this.#arm();
  }

  #takeVisible(): Message[] {
    const now = Date.now();
    const batch: Message[] = [];
    for (let next = this.#waiting.peek(); next && next.visibleAt <= now; next = this.#waiting.peek()) {
      this.#waiting.pop();
      // Only after a crash mid-delivery: SQS moves such a message on its next receive instead of delivering it.
      if (next.receiveCount >= this.#settings.maxReceiveCount) {
        this.#deadLetter(next);
        this.#notify(structuredClone(next.record), 'dead-letter');
        continue;
      }
      batch.push(next);
      if (batch.length === this.#settings.batchSize) break;
    }
    return batch;
  }

  #launch(batch: Message[]): void {
    const receivedAt = Date.now();
    for (const message of batch) {
      message.receiveCount++;
      message.visibleAt = receivedAt + this.#settings.visibilityTimeoutMs;
      const { record } = message;
      record.receiptHandle = randomUUID();
      record.attributes.ApproximateReceiveCount = String(message.receiveCount);
      if (message.receiveCount === 1) record.attributes.ApproximateFirstReceiveTimestamp = String(receivedAt);
      // Stored before the consumer runs, so a crash mid-batch still counts the receive.
      this.#store(() => this.#folder?.saveMessage(message));
    }
    this.#inFlight += batch.length;
    // Copies: the consumer may keep or change its records; ours change on the next receive.
    const records = batch.map((m) => structuredClone(m.record));
    // Started in a microtask so the consumer never runs inside `send` (or this loop) and the
    // batch is counted in #batches before anything it does can start another.
    const done: Promise<void> = Promise.resolve()
      .then(() => this.#deliver(batch, records))
      // #deliver handles the consumer's failures; this keeps a bug of ours from crashing the process.
      .catch((error: unknown) => this.#log(`queue ${this.#settings.name}: ${(error as Error).message}`))
      .finally(() => {
        this.#batches.delete(done);
        this.#pump();
      });
    this.#batches.add(done);
  }

  async #deliver(batch: readonly Message[], records: readonly SQSRecord[]): Promise<void> {
    let failed: Set<string>;
    try {
      const response = await this.#consumer({ Records: [...records] });
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      // As with Lambda, a consumer that throws (or answers nonsense) fails the whole batch.
      failed = new Set(batch.map((m) => m.record.messageId));
    }
    this.#inFlight -= batch.length;
    batch.forEach((message, index) => {
      const outcome = this.#settle(message, failed.has(message.record.messageId));
      this.#notify(records[index] as SQSRecord, outcome);
    });
  }

  #settle(message: Message, failed: boolean): SettleOutcome {
    const { messageId } = message.record;
    if (!failed) {
      this.#messages.delete(messageId);
      this.#store(() => this.#folder?.deleteMessage(messageId));
      return 'acknowledged';
    }
    if (message.receiveCount >= this.#settings.maxReceiveCount) {
      this.#deadLetter(message);
      return 'dead-letter';
    }
    // Its visibleAt is the visibility deadline set (and stored) when it was received.
    this.#waiting.push(message);
    return 'retry';
  }

  #deadLetter(message: Message): void {
    const deadLetter: DeadLetter = {
      record: message.record,
      receiveCount: message.receiveCount,
      failedAt: new Date().toISOString(),
    };
    this.#messages.delete(message.record.messageId);
    this.#deadLetters.push(deadLetter);
    this.#store(() => this.#folder?.saveDeadLetter({ ...deadLetter, sequence: message.sequence }));
    this.#log(
      `queue ${this.#settings.name}: message ${message.record.messageId} moved to the dead letters after ${message.receiveCount} receives`,
    );
  }

  #notify(record: SQSRecord, outcome: SettleOutcome): void {
    try {
      this.#onSettled?.(record, outcome);
    } catch (error) {
      this.#log(`queue ${this.#settings.name}: onSettled threw: ${(error as Error).message}`);
    }
  }

  /** Runs a write that must not stop deliveries: the message stays right in memory either way. */
  #store(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.#log(`queue ${this.#settings.name}: could not store a change: ${(error as Error).message}`);
    }
  }

  /**
   * One timer, at the earliest visibility time. None while stopped or while every slot is busy:
   * a settling batch pumps again anyway.
   */
  #arm(): void {
    const next = this.#waiting.peek();
    if (!this.#running || next === undefined || this.#batches.size >= this.#settings.concurrency) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt === next.visibleAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = next.visibleAt;
    // A timer that fires a little early finds nothing visible and is set again for the rest.
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#pump();
      },
      Math.min(Math.max(next.visibleAt - Date.now(), 0), MAX_TIMER_MS),
    );
    this.#timer.unref();
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * The queue's files: `messages/<messageId>.json` for each message, `dead-letters/<messageId>.json`
 * for each dead letter, `corrupt/` for files that could not be read. Every write goes to a
 * temporary name first and is renamed into place, so a crash leaves the old file or the new one,
 * never half of one. Writes are not fsynced: this guards against a dying process, not a dying machine.
 */
class QueueFolder {
  readonly #messages: string;
  readonly #deadLetters: string;
  readonly #corrupt: string;
  readonly #log: (line: string) => void;

  constructor(directory: string, log: (line: string) => void) {
    this.#messages = join(directory, 'messages');
    this.#deadLetters = join(directory, 'dead-letters');
    this.#corrupt = join(directory, 'corrupt');
    this.#log = log;
    mkdirSync(this.#messages, { recursive: true });
    mkdirSync(this.#deadLetters, { recursive: true });
  }

  load(): { messages: Message[]; deadLetters: StoredDeadLetter[] } {
    const deadLetters = this.#readAll(this.#deadLetters, isStoredDeadLetter).sort(
      (a, b) => a.failedAt.localeCompare(b.failedAt) || a.sequence - b.sequence,
    );
    const dead = new Set(deadLetters.map((d) => d.record.messageId));
    const messages = this.#readAll(this.#messages, isStoredMessage).filter((message) => {
      // Dead-lettering writes the dead letter first: a crash before the delete leaves both.
      if (!dead.has(message.record.messageId)) return true;
      this.deleteMessage(message.record.messageId);
      return false;
    });
    return { messages, deadLetters };
  }

  saveMessage(message: Message): void {
    writeAtomically(join(this.#messages, `${message.record.messageId}.json`), message);
  }

  deleteMessage(messageId: string): void {
    rmSync(join(this.#messages, `${messageId}.json`), { force: true });
  }

  saveDeadLetter(deadLetter: StoredDeadLetter): void {
    writeAtomically(join(this.#deadLetters, `${deadLetter.record.messageId}.json`), deadLetter);
    this.deleteMessage(deadLetter.record.messageId);
  }

  #readAll<T extends { record: SQSRecord }>(folder: string, isValid: (value: unknown) => value is T): T[] {
    const found: T[] = [];
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      if (name.endsWith('.tmp')) {
        // Never renamed into place, so the write it belonged to never completed.
        rmSync(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        value = undefined;
      }
      if (isValid(value) && `${value.record.messageId}.json` === name) found.push(value);
      else this.#setAside(file, name);
    }
    return found;
  }

  #setAside(file: string, name: string): void {
    try {
      mkdirSync(this.#corrupt, { recursive: true });
      renameSync(file, join(this.#corrupt, name));
      this.#log(`queue: could not read ${file}; moved it to ${join(this.#corrupt, name)}`);
    } catch (error) {
      this.#log(`queue: could not read ${file} nor move it aside: ${(error as Error).message}`);
    }
  }
}

function writeAtomically(file: string, value: unknown): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(value));
  renameSync(temporary, file);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isRecord(value: unknown): value is SQSRecord {
  return (
    isObject(value) &&
    typeof value.messageId === 'string' &&
    typeof value.body === 'string' &&
    isObject(value.attributes) &&
    isObject(value.messageAttributes)
  );
}

function isStoredMessage(value: unknown): value is Message {
  return (
    isObject(value) &&
    isRecord(value.record) &&
    Number.isInteger(value.receiveCount) &&
    Number.isFinite(value.visibleAt) &&
    Number.isInteger(value.sequence)
  );
}

function isStoredDeadLetter(value: unknown): value is StoredDeadLetter {
  return (
    isObject(value) &&
    isRecord(value.record) &&
    Number.isInteger(value.receiveCount) &&
    typeof value.failedAt === 'string' &&
    Number.isInteger(value.sequence)
  );
}

/** A binary min-heap of messages by visibility time, then send order. */
class MessageHeap {
  readonly #items: Message[] = [];

  peek(): Message | undefined {
    return this.#items[0];
  }

  push(message: Message): void {
    const items = this.#items;
    items.push(message);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(items[index] as Message, items[parent] as Message)) break;
      [items[index], items[parent]] = [items[parent] as Message, items[index] as Message];
      index = parent;
    }
  }

  pop(): Message | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < items.length && before(items[left] as Message, items[smallest] as Message)) smallest = left;
      if (right < items.length && before(items[right] as Message, items[smallest] as Message))
        smallest = right;
      if (smallest === index) return top;
      [items[index], items[smallest]] = [items[smallest] as Message, items[index] as Message];
      index = smallest;
    }
  }
}

function before(a: Message, b: Message): boolean {
  return a.visibleAt < b.visibleAt || (a.visibleAt === b.visibleAt && a.sequence < b.sequence);
}
