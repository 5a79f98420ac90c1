import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { ValidationError } from '../core/errors.ts';
import { assertWithin } from '../core/limits.ts';
import type { SubmitTaskInput } from '../core/task-record.ts';

/** The EventBridge envelope of a `TaskRequested` event, as a rule delivers it to SQS. */
const eventEnvelope = z.looseObject({
  id: z.string(),
  'detail-type': z.literal('TaskRequested'),
  source: z.string(),
  detail: z.record(z.string(), z.unknown()),
});

/**
 * Reads an intake message: an EventBridge `TaskRequested` event (the task is its `detail`) or a
 * task sent to the queue directly. The idempotency key is the task id when given, else the
 * event id or the SQS message id, which stay the same across redeliveries. A message over the
 * `intakeMessage` limit is refused before it is parsed (PayloadTooLargeError).
 */
export function parseIntakeMessage(record: SQSRecord): { task: SubmitTaskInput; idempotencyKey: string } {
  assertWithin('intakeMessage', Buffer.byteLength(record.body));
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new ValidationError([{ field: 'body', message: 'message body is not JSON' }]);
  }
  const envelope = eventEnvelope.safeParse(body);
  const task = (envelope.success ? envelope.data.detail : body) as SubmitTaskInput;
  if (typeof task !== 'object' || task === null)
    throw new ValidationError([{ field: 'body', message: 'must be a task object' }]);
  const keyAttribute = record.messageAttributes?.IdempotencyKey?.stringValue;
  const idempotencyKey =
    keyAttribute ??
    (typeof task.id === 'string'
      ? task.id
      : envelope.success
        ? `event:${envelope.data.id}`
        : `message:${record.messageId}`);
  return { task, idempotencyKey };
}
