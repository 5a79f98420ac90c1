import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalQueue, type LocalQueueOptions, type SettleOutcome } from '../../lib/local/local-queue.ts';

interface Delivery {
  at: number;
  records: SQSRecord[];
}

/** A consumer that notes every batch it gets (and when), then answers with `respond`. */
function recorder(
  respond: (event: SQSEvent) => Promise<SQSBatchResponse | undefined> = async () => undefined,
) {
  const deliveries: Delivery[] = [];
  const consumer = async (event: SQSEvent) => {
    deliveries.push({ at: Date.now(), records: event.Records });
    return respond(event);
  };
  const bodies = () => deliveries.flatMap((d) => d.records.map((r) => r.body));
  return { deliveries, consumer, bodies };
}

let directory: string;
const queues: LocalQueue[] = [];

function queue(
  consumer: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>,
  options: LocalQueueOptions = {},
) {
  const created = new LocalQueue(consumer, options);
  queues.push(created);
  return created;
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'local-queue-'));
});

afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.stop()));
  rmSync(directory, { recursive: true, force: true });
});

describe('LocalQueue delivery', () => {
  it('delivers messages as an SQSEvent with their attributes, in send order', async () => {
    const { deliveries, consumer } = recorder();
    const q = queue(consumer, { name: 'intake' });
    const first = q.send('hello', { attributes: { kind: 'task', priority: 'high' } });
    const second = q.send('world');
    await q.drain();

    expect(deliveries).toHaveLength(1);
    const [a, b] = deliveries[0]?.records ?? [];
    expect(a).toMatchObject({
      messageId: first,
      body: 'hello',
      md5OfBody: '5d41402abc4b2a76b9719d911017c592', // md5("hello")
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:intake',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {
        kind: { stringValue: 'task', dataType: 'String' },
        priority: { stringValue: 'high', dataType: 'String' },
      },
    });
    expect(b).toMatchObject({ messageId: second, body: 'world', messageAttributes: {} });
    expect(q.depth).toBe(0);
  });

  it('delivers nothing before start() and a sent message at once after, without waiting for a poll', async () => {
    const { deliveries, consumer } = recorder();
    const q = queue(consumer);
    q.send('early');
    await sleep(30);
    expect(deliveries).toHaveLength(0);

    q.start();
    await nextTurn();
    expect(deliveries.map((d) => d.records.map((r) => r.body))).toEqual([['early']]);

    q.send('late');
    // Not from inside send: a publisher never runs the consumer on its own stack.
    expect(deliveries).toHaveLength(1);
    await nextTurn();
    expect(deliveries.map((d) => d.records.map((r) => r.body))).toEqual([['early'], ['late']]);
  });

  it('redelivers the failures of a partial batch response after the visibility timeout, with ApproximateReceiveCount 2', async () => {
    const outcomes: Array<[string, SettleOutcome]> = [];
    const { deliveries, consumer } = recorder(async (event) => ({
      batchItemFailures: event.Records.filter(
        (r) => r.body === 'flaky' && r.attributes.ApproximateReceiveCount === '1',
      ).map((r) => ({ itemIdentifier: r.messageId })),
    }));
    const q = queue(consumer, {
      visibilityTimeoutMs: 100,
      onSettled: (record, outcome) => outcomes.push([record.body, outcome]),
    });
    q.send('fine');
    const flaky = q.send('flaky');
    q.start();
    await vi.waitFor(() => expect(outcomes).toContainEqual(['flaky', 'acknowledged']), { timeout: 2_000 });

    expect(outcomes).toEqual([
      ['fine', 'acknowledged'],
      ['flaky', 'retry'],
      ['flaky', 'acknowledged'],
    ]);
    expect(deliveries).toHaveLength(2);
    const [first, second] = deliveries as [Delivery, Delivery];
    expect(second.records).toHaveLength(1);
    expect(second.records[0]).toMatchObject({
      messageId: flaky,
      attributes: { ApproximateReceiveCount: '2' },
    });
    // The first delivery's record is a snapshot: the later receive does not rewrite it.
    expect(first.records[1]?.attributes.ApproximateReceiveCount).toBe('1');
    // first.at is a little after the receive that started the 100 ms: leave room for a slow machine.
    expect(second.at - first.at).toBeGreaterThanOrEqual(75);
    expect(q.depth).toBe(0);
  });

  it('fails the whole batch when the consumer throws, and dead-letters after maxReceiveCount receives', async () => {
    const outcomes: SettleOutcome[] = [];
    const { deliveries, consumer } = recorder(async () => {
      throw new Error('boom');
    });
    const q = queue(consumer, {
      visibilityTimeoutMs: 10,
      maxReceiveCount: 3,
      onSettled: (record, outcome) => record.body === 'a' && outcomes.push(outcome),
    });
    const a = q.send('a');
    const b = q.send('b');
    q.start();
    await vi.waitFor(() => expect(q.deadLetters).toHaveLength(2), { timeout: 2_000 });

    expect(
      deliveries.map((d) => d.records.map((r) => `${r.body}${r.attributes.ApproximateReceiveCount}`)),
    ).toEqual([
      ['a1', 'b1'],
      ['a2', 'b2'],
      ['a3', 'b3'],
    ]);
    expect(outcomes).toEqual(['retry', 'retry', 'dead-letter']);
    expect(q.deadLetters.map((d) => [d.record.messageId, d.receiveCount])).toEqual([
      [a, 3],
      [b, 3],
    ]);
    expect(q.depth).toBe(0);
    await sleep(50);
    expect(deliveries).toHaveLength(3);
  });

  it('holds a delayed message back for delaySeconds', async () => {
    const { deliveries, consumer } = recorder();
    const q = queue(consumer);
    q.start();
    const sentAt = Date.now();
    q.send('later', { delaySeconds: 1 });
    q.send('now');
    await vi.waitFor(() => expect(deliveries).toHaveLength(2), { timeout: 3_000 });

    const at = (body: string) =>
      deliveries.find((d) => d.records.some((r) => r.body === body))?.at ?? Number.NaN;
    expect(at('now') - sentAt).toBeLessThan(500);
    // Not before its time; that it comes at all (within the wait above) shows the timer.
    expect(at('later') - sentAt).toBeGreaterThanOrEqual(1_000);
  });

  it.each([-1, 901, 1.5, Number.NaN])(
    'rejects delaySeconds %s with a RangeError and queues nothing',
    (delaySeconds) => {
      const q = queue(async () => undefined);
      expect(() => q.send('x', { delaySeconds })).toThrow(RangeError);
      expect(() => q.send('x', { delaySeconds })).toThrow(/delaySeconds/);
      expect(q.depth).toBe(0);
      q.send('x', { delaySeconds: 900 });
      expect(q.depth).toBe(1);
    },
  );

  it.each([
    ['batchSize', { batchSize: 0 }],
    ['concurrency', { concurrency: 0 }],
    ['maxReceiveCount', { maxReceiveCount: 1.5 }],
    ['visibilityTimeoutMs', { visibilityTimeoutMs: -1 }],
  ] as const)('rejects a bad %s with a RangeError naming it', (name, options) => {
    expect(() => new LocalQueue(async () => undefined, options)).toThrow(RangeError);
    expect(() => new LocalQueue(async () => undefined, options)).toThrow(new RegExp(`^${name} `));
  });

  it('stop() waits for the batches in flight', async () => {
    let finished = false;
    const q = queue(async () => {
      await sleep(50);
      finished = true;
      return undefined;
    });
    q.start();
    q.send('slow');
    await nextTurn();
    expect(q.inFlight).toBe(1);
    await q.stop();
    expect(finished).toBe(true);
    expect(q.inFlight).toBe(0);
    expect(q.depth).toBe(0);
  });
});

describe('LocalQueue concurrency', () => {
  it('runs up to `concurrency` batches at once and never more', async () => {
    let active = 0;
    let mostActive = 0;
    const seen: string[] = [];
    const q = queue(
      async (event) => {
        active++;
        mostActive = Math.max(mostActive, active);
        seen.push(...event.Records.map((r) => r.body));
        await sleep(40);
        active--;
        return undefined;
      },
      { concurrency: 3, batchSize: 2 },
    );
    for (let i = 0; i < 12; i++) q.send(`m${i}`);
    q.start();
    await nextTurn();
    expect(active).toBe(3);
    expect(q.inFlight).toBe(6);
    await vi.waitFor(() => expect(q.depth).toBe(0), { timeout: 2_000 });

    expect(mostActive).toBe(3);
    expect(seen.toSorted()).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`).toSorted());
  });

  it('never hands a message in flight to a second batch, even past its visibility timeout', async () => {
    const { deliveries, consumer } = recorder(async () => {
      await sleep(150);
      return undefined;
    });
    const q = queue(consumer, { visibilityTimeoutMs: 20, concurrency: 3 });
    q.start();
    q.send('slow');
    await vi.waitFor(() => expect(q.depth).toBe(0), { timeout: 2_000 });
    await sleep(50);
    expect(deliveries).toHaveLength(1);
  });
});

describe('LocalQueue persistence', () => {
  const files = (folder: string) =>
    existsSync(join(directory, folder)) ? readdirSync(join(directory, folder)) : [];

  it('keeps queued and delayed messages across a restart and delivers the delayed one on time', async () => {
    const before = recorder();
    const first = queue(before.consumer, { directory });
    const sentAt = Date.now();
    const now = first.send('now', { attributes: { kind: 'task' } });
    const later = first.send('later', { delaySeconds: 1 });
    expect(files('messages').toSorted()).toEqual([`${now}.json`, `${later}.json`].toSorted());
    await first.stop();
    expect(before.deliveries).toHaveLength(0);

    const after = recorder();
    const second = queue(after.consumer, { directory });
    expect(second.depth).toBe(2);
    second.start();
    await vi.waitFor(() => expect(after.deliveries).toHaveLength(2), { timeout: 3_000 });

    const [nowDelivery, laterDelivery] = after.deliveries as [Delivery, Delivery];
    expect(nowDelivery.records[0]).toMatchObject({
      messageId: now,
      body: 'now',
      messageAttributes: { kind: { stringValue: 'task' } },
    });
    expect(laterDelivery.records[0]?.messageId).toBe(later);
    expect(laterDelivery.at - sentAt).toBeGreaterThanOrEqual(1_000);
    await vi.waitFor(() => expect(files('messages')).toEqual([]), { timeout: 1_000 });
  });

  it('redelivers a message that was in flight when the process died, at its visibility deadline', async () => {
    let receivedAt = 0;
    const dying = new LocalQueue(
      () => {
        receivedAt = Date.now();
        return new Promise<never>(() => {}); // the process dies before the consumer answers
      },
      { directory, visibilityTimeoutMs: 500 },
    );
    dying.start();
    const sentAt = Date.now();
    const id = dying.send('work');
    await vi.waitFor(() => expect(receivedAt).toBeGreaterThan(0));
    void dying.stop(); // stops its deliveries; never resolves, as the batch never settles

    const after = recorder();
    const revived = queue(after.consumer, { directory, visibilityTimeoutMs: 500 });
    revived.start();
    await vi.waitFor(() => expect(after.deliveries).toHaveLength(1), { timeout: 3_000 });

    expect(after.deliveries[0]?.records[0]).toMatchObject({
      messageId: id,
      attributes: { ApproximateReceiveCount: '2' },
    });
    // Received at sentAt or later, visible again 500 ms after that.
    expect((after.deliveries[0]?.at ?? 0) - sentAt).toBeGreaterThanOrEqual(500);
  });

  it('keeps dead letters across a restart', async () => {
    const first = queue(
      async () => {
        throw new Error('boom');
      },
      { directory, maxReceiveCount: 1 },
    );
    const id = first.send('poison');
    await first.drain();
    expect(first.deadLetters).toHaveLength(1);
    expect(files('dead-letters')).toEqual([`${id}.json`]);
    expect(files('messages')).toEqual([]);
    await first.stop();

    const { deliveries, consumer } = recorder();
    const second = queue(consumer, { directory });
    expect(second.depth).toBe(0);
    expect(second.deadLetters).toEqual([
      {
        record: expect.objectContaining({ messageId: id, body: 'poison' }),
        receiveCount: 1,
        failedAt: first.deadLetters[0]?.failedAt,
      },
    ]);
    await second.drain();
    expect(deliveries).toHaveLength(0);
  });

  it('dead-letters without delivering a message that had used up its receives when the process died', async () => {
    let received = false;
    const dying = new LocalQueue(
      () => {
        received = true;
        return new Promise<never>(() => {});
      },
      { directory, maxReceiveCount: 1, visibilityTimeoutMs: 100 },
    );
    dying.start();
    const id = dying.send('last chance');
    await vi.waitFor(() => expect(received).toBe(true));
    void dying.stop();

    const outcomes: Array<[string, SettleOutcome]> = [];
    const { deliveries, consumer } = recorder();
    const revived = queue(consumer, {
      directory,
      maxReceiveCount: 1,
      visibilityTimeoutMs: 100,
      onSettled: (record, outcome) => outcomes.push([record.messageId, outcome]),
    });
    revived.start();
    await vi.waitFor(() => expect(revived.deadLetters).toHaveLength(1), { timeout: 2_000 });

    expect(deliveries).toHaveLength(0);
    expect(outcomes).toEqual([[id, 'dead-letter']]);
    expect(files('dead-letters')).toEqual([`${id}.json`]);
    expect(files('messages')).toEqual([]);
  });

  it('completes a dead-lettering that the process died in the middle of', async () => {
    let stored = '';
    const first = queue(
      async (event) => {
        // What the message file holds while it is in flight: the state a crash would leave.
        stored = readFileSync(join(directory, 'messages', `${event.Records[0]?.messageId}.json`), 'utf8');
        throw new Error('boom');
      },
      { directory, maxReceiveCount: 1 },
    );
    const id = first.send('poison');
    await first.drain();
    expect(JSON.parse(stored)).toMatchObject({ record: { messageId: id }, receiveCount: 1 });
    // The dead letter was written but the message file not yet deleted.
    writeFileSync(join(directory, 'messages', `${id}.json`), stored);

    const { deliveries, consumer } = recorder();
    const second = queue(consumer, { directory });
    await second.drain();
    expect(second.depth).toBe(0);
    expect(second.deadLetters.map((d) => d.record.messageId)).toEqual([id]);
    expect(files('messages')).toEqual([]);
    expect(deliveries).toHaveLength(0);
  });

  it('moves unreadable files aside with a warning and keeps working', async () => {
    mkdirSync(join(directory, 'messages'), { recursive: true });
    writeFileSync(join(directory, 'messages', 'broken.json'), '{"record": {"messageId": "bro');
    writeFileSync(join(directory, 'messages', 'empty.json'), '{}');
    const lines: string[] = [];
    const { bodies, consumer } = recorder();
    const q = queue(consumer, { directory, log: (line) => lines.push(line) });

    expect(files('corrupt').toSorted()).toEqual(['broken.json', 'empty.json']);
    expect(files('messages')).toEqual([]);
    expect(readFileSync(join(directory, 'corrupt', 'broken.json'), 'utf8')).toBe(
      '{"record": {"messageId": "bro',
    );
    expect(lines.filter((l) => l.includes('broken.json'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('empty.json'))).toHaveLength(1);
    expect(q.depth).toBe(0);

    q.send('still works');
    await q.drain();
    expect(bodies()).toEqual(['still works']);
  });
});
