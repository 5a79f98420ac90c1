import { randomUUID } from 'node:crypto';
import { ValidationError } from './errors.ts';
import {
  assertSameRequest,
  requestHash as hashRequest,
  parseIdempotencyKey,
  sha256Hex,
} from './idempotency.ts';
import { assertWithin, jsonBytes } from './limits.ts';
import type { TaskMessage, TaskQueue } from './task-message.ts';
import { publicRecord, type SubmitTaskInput, submitTaskSchema, type TaskRecord } from './task-record.ts';
import { parseInput } from './validation.ts';

export interface TaskSubmissionPorts {
  /** Writes the record unless one with its id exists; returns the existing record in that case. */
  putTaskIfAbsent(record: TaskRecord): Promise<TaskRecord | undefined>;
  deleteTask(taskId: string): Promise<void>;
  /**
   * Sets the record's `updatedAt` to `now` if it is still PENDING at seq 0 with `seenUpdatedAt`;
   * false otherwise (another repeat claimed it, or a worker took the task).
   */
  claimRequeue(taskId: string, seenUpdatedAt: string, now: string): Promise<boolean>;
  /** True for a context that exists and has not expired. */
  contextExists(contextId: string): Promise<boolean>;
  /** The task queue the worker consumes. */
  queue: TaskQueue;
  /**
   * The parameters with each artifact reference checked against the store and completed from it
   * (see `resolveInputReferences`); without it, parameters are taken as they come.
   */
  resolveReferences?(parameters: TaskParameters): Promise<TaskParameters>;
  now(): Date;
}

/** A task's parameters, as submitted. */
export type TaskParameters = Record<string, unknown>;

/**
 * How long a task may stay PENDING, never taken by a worker, before a repeat of its request queues
 * it again. The process that recorded it may have stopped before it could send its message (the
 * two are separate writes), and then nothing else would ever queue it. This is longer than any
 * submitting function runs, so the first sender is done by then; if its message was only waiting
 * in a long queue, the worker gets the task twice and applies it once (at the price of a second
 * factory call).
 */
export const REQUEUE_AFTER_MS = 60_000;

/** Accepts tasks: validates, records once per idempotency key, hands each to the task queue once. */
export class TaskSubmission {
  readonly #ports: TaskSubmissionPorts;
  constructor(ports: TaskSubmissionPorts) {
    this.#ports = ports;
  }

  /**
   * Submits a task. The idempotency key is the `Idempotency-Key` header, else the task id: a
   * repeat with the same key and the same request returns the first task and queues nothing
   * (unless the task looks lost: see {@link REQUEUE_AFTER_MS}); the same key with a different
   * request is a conflict. Without either, every call is new. Parameters above the
   * `taskParameters` limit, artifact references counted as references, are refused (413) before
   * anything is written.
   */
  async submit(
    input: SubmitTaskInput,
    options: { idempotencyKey?: string } = {},
  ): Promise<{ created: boolean; task: TaskRecord }> {
    const request = parseInput(submitTaskSchema, input, 'task');
    const key =
      options.idempotencyKey === undefined ? request.id : parseIdempotencyKey(options.idempotencyKey);
    const requestHash = hashRequest(request);
    const taskId =
      request.id ?? (key === undefined ? `t_${randomUUID()}` : `t_${sha256Hex(key).slice(0, 32)}`);
    const { strategy, ...fields } = request;
    const parameters = this.#ports.resolveReferences
      ? await this.#ports.resolveReferences(fields.parameters)
      : fields.parameters;
    // Every other field of a task is bounded by its schema: the parameters decide its size.
    assertWithin('taskParameters', jsonBytes(parameters));
    const task = { ...fields, parameters, id: taskId };
    if (task.contextId !== undefined && !(await this.#ports.contextExists(task.contextId))) {
      throw new ValidationError([{ field: 'contextId', message: `context '${task.contextId}' not found` }]);
    }
    const now = this.#ports.now().toISOString();
    const record: TaskRecord = {
      taskId,
      task,
      strategy,
      status: 'PENDING',
      seq: 0,
      idempotencyKey: key,
      requestHash,
      attempts: [],
      createdAt: now,
      updatedAt: now,
    };
    const existing = await this.#ports.putTaskIfAbsent(record);
    if (existing) {
      const keyName = options.idempotencyKey === undefined ? 'task id' : 'Idempotency-Key';
      assertSameRequest(existing, requestHash, keyName, key ?? taskId);
      return { created: false, task: publicRecord((await this.#requeueIfLost(existing)) ?? existing) };
    }
    const message: TaskMessage = { taskId, seq: 0, task, strategy, submittedAt: now };
    try {
      await this.#ports.queue.send(message);
    } catch (error) {
      // Nothing was queued: forget the task so that a retry of the same request can queue it.
      await this.#ports.deleteTask(taskId);
      throw error;
    }
    return { created: true, task: record };
  }

  /** Queues a task again if no worker has taken it for {@link REQUEUE_AFTER_MS}; the record as it is then. */
  async #requeueIfLost(record: TaskRecord): Promise<TaskRecord | undefined> {
    const now = this.#ports.now();
    if (record.status !== 'PENDING' || record.seq !== 0) return undefined;
    if (now.getTime() - Date.parse(record.updatedAt) < REQUEUE_AFTER_MS) return undefined;
    const at = now.toISOString();
    if (!(await this.#ports.claimRequeue(record.taskId, record.updatedAt, at))) return undefined;
    // Its time budget starts again: the task never ran.
    await this.#ports.queue.send({
      taskId: record.taskId,
      seq: 0,
      task: record.task,
      strategy: record.strategy,
      submittedAt: at,
    });
    return { ...record, updatedAt: at };
  }
}
