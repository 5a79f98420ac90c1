import * as z from 'zod';
import type { Decision } from './brain.ts';
import { identifier } from './names.ts';
import type { RoutingDecision } from './routing/router.ts';
import { strategyName } from './routing/strategy-name.ts';
import { taskSchema } from './task.ts';
import type { CallAttempt, CallError, TaskRecord, TaskWaiting } from './task-record.ts';
import { parseInput } from './validation.ts';

/** The longest a queue message can be delayed (SQS `DelaySeconds`); longer waits take several hops. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/**
 * A message on the task queue: what the worker needs to take a task one step further without
 * reading its record. The first message carries the task; a continuation (a retry, or the end of
 * a wait for a callback) also carries what was decided and tried so far, and the record's `seq`
 * it continues from, so a copy that arrives after the task moved on changes nothing.
 */
export interface TaskMessage {
  taskId: string;
  seq: number;
  task: z.output<typeof taskSchema>;
  strategy?: z.output<typeof strategyName> | undefined;
  /** When the task was submitted (ISO): its time budget runs from here. */
  submittedAt: string;
  decision?: Decision | undefined;
  route?: RoutingDecision | undefined;
  attempts?: CallAttempt[] | undefined;
  /** Why a continuation was sent. */
  resume?: TaskResume | undefined;
  /** Not to be worked on before this time (ISO); set when the wait is longer than a queue delay. */
  notBefore?: string | undefined;
}

/**
 * - `retry`: call the route's primary again.
 * - `callback-failed`: the factory called back with a failure (the callback already saved it).
 * - `callback-deadline`: the time for the callback is up; if the task still waits, the call timed out.
 */
export type TaskResume =
  | { kind: 'retry' }
  | { kind: 'callback-failed'; error: CallError }
  | { kind: 'callback-deadline' };

/** Sends task messages: the SQS task queue on AWS, the local queue under `npm start`. */
export interface TaskQueue {
  send(message: TaskMessage, delaySeconds?: number): Promise<void>;
}

const object = <T>() =>
  z.custom<T>((value) => typeof value === 'object' && value !== null && !Array.isArray(value));

const callError = z.object({
  kind: z.enum(['timeout', 'error', 'rejected']),
  message: z.string(),
  status: z.number().optional(),
});

const messageSchema = z.object({
  taskId: identifier,
  seq: z.number().int().min(0),
  task: taskSchema,
  strategy: strategyName.optional(),
  submittedAt: z.iso.datetime(),
  decision: object<Decision>().optional(),
  route: object<RoutingDecision>().optional(),
  attempts: z.array(object<CallAttempt>()).optional(),
  resume: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('retry') }),
      z.object({ kind: z.literal('callback-failed'), error: callError }),
      z.object({ kind: z.literal('callback-deadline') }),
    ])
    .optional(),
  notBefore: z.iso.datetime().optional(),
});

/** Reads a queue message body; a body that is not a task message is a ValidationError. */
export function parseTaskMessage(body: string): TaskMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return parseInput(messageSchema, undefined, 'message');
  }
  return parseInput(messageSchema, value, 'message');
}

/**
 * The message that takes a task on from a wait: its state so far, the resume its wait asks for
 * and the time it is due.
 */
export function followUp(
  state: Pick<
    TaskMessage,
    'taskId' | 'seq' | 'task' | 'strategy' | 'submittedAt' | 'decision' | 'route' | 'attempts'
  >,
  waiting: TaskWaiting,
): TaskMessage {
  return {
    ...state,
    resume:
      waiting.for === 'retry'
        ? { kind: 'retry' }
        : waiting.for === 'failure'
          ? { kind: 'callback-failed', error: waiting.error }
          : { kind: 'callback-deadline' },
    notBefore: waiting.until,
  };
}

/**
 * The continuation a RUNNING record waits on, rebuilt from the record: sent again when the
 * invocation that saved the record stopped before it could send it.
 */
export function continuationOf(record: TaskRecord): TaskMessage | undefined {
  if (record.status !== 'RUNNING' || !record.waiting) return undefined;
  return followUp(stateOf(record), record.waiting);
}

/** What a message carries of a task record. */
export function stateOf(record: TaskRecord): Omit<TaskMessage, 'resume' | 'notBefore'> {
  return {
    taskId: record.taskId,
    seq: record.seq,
    task: record.task,
    strategy: record.strategy,
    submittedAt: record.createdAt,
    decision: record.decision,
    route: record.route,
    attempts: record.attempts,
  };
}
