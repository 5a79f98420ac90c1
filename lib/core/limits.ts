/**
 * Every size limit of the orchestrator, in one place, with the AWS limit it protects. The README's
 * limits table is checked against this list. Sizes are bytes of UTF-8 (of the JSON text for
 * structured values), never characters.
 */
import { PayloadTooLargeError } from './errors.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface SizeLimit {
  bytes: number;
  /** What is limited, as the error message names it. */
  what: string;
  /** The AWS limit the value keeps us within, and how. */
  protects: string;
}

export const LIMITS = {
  /** An output kept inline in a task record, a step record or a callback; larger ones become artifacts. */
  inlineOutput: {
    bytes: 64 * KiB,
    what: 'an output kept inline (larger outputs are stored as artifacts)',
    protects: 'DynamoDB item 400 KB; Step Functions state 256 KB',
  },
  /** The body of any API request but a callback. */
  apiBody: {
    bytes: 256 * KiB,
    what: 'an API request body',
    protects: 'DynamoDB item 400 KB (task and template records); Lambda 6 MB',
  },
  /** A task's parameters, artifact references counted as references. */
  taskParameters: {
    bytes: 64 * KiB,
    what: 'task parameters (large inputs go by artifact reference)',
    protects: 'DynamoDB item 400 KB (the task record); SQS and EventBridge 1 MB (the task message)',
  },
  /** A workflow run's input, carried in the state of every step. */
  runInput: {
    bytes: 64 * KiB,
    what: 'a workflow run input',
    protects: 'Step Functions state 256 KB',
  },
  /** A message taken from the intake queue or an EventBridge event. */
  intakeMessage: {
    bytes: 256 * KiB,
    what: 'an intake message or event',
    protects: 'SQS and EventBridge 1 MB; DynamoDB item 400 KB',
  },
  /**
   * A factory's callback body; an output above `inlineOutput` in it is stored as an artifact. API
   * Gateway hands a binary body to Lambda in base64, 4/3 of its size: 4 MiB becomes 5.3 MiB, which
   * still fits Lambda's 6 MB request payload with the event around it.
   */
  callbackBody: {
    bytes: 4 * MiB,
    what: 'a callback body',
    protects: 'Lambda 6 MB (request payload)',
  },
  /** A factory's answer, read as a stream and aborted past this. */
  factoryAnswer: {
    bytes: 16 * MiB,
    what: 'a factory answer',
    protects: 'Lambda memory (answers above the inline size are stored as artifacts)',
  },
  /** One artifact, uploaded by a factory or stored from an answer. */
  /**
   * One artifact. An upload is read back once to check its sha256, within the calling function's
   * timeout (30 s): 1 GiB leaves room at the ~100 MB/s a function reads from S3.
   */
  artifact: {
    bytes: 1024 * MiB,
    what: 'an artifact',
    protects: 'S3 single PUT 5 GB; Lambda timeout (an upload is read back to check its sha256)',
  },
} as const satisfies Record<string, SizeLimit>;

export type LimitName = keyof typeof LIMITS;

/** Bytes of the JSON text of `value` (`null` for undefined). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null));
}

/** A size in its largest whole binary unit: `262144` -> `256 KiB`, `1000` -> `1000 bytes`. */
export function humanBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 * MiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

/**
 * The message of a refusal: names what was too large, its size (when known: a body whose reading
 * stopped at the limit has none) and the limit.
 */
export function overLimitMessage(name: LimitName, bytes?: number): string {
  const limit = LIMITS[name];
  const size = bytes === undefined ? '' : ` ${bytes} bytes is`;
  return `${limit.what}:${size} over the limit of ${limit.bytes} bytes (${humanBytes(limit.bytes)})`;
}

/** Refuses `bytes` over the limit `name` with a {@link PayloadTooLargeError} naming the limit. */
export function assertWithin(name: LimitName, bytes: number): void {
  if (bytes > LIMITS[name].bytes) throw new PayloadTooLargeError(overLimitMessage(name, bytes));
}
