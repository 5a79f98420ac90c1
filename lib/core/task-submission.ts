import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { ConflictError, PayloadTooLargeError, ValidationError } from './errors.ts';
import type { TaskMessage, TaskQueue } from './task-message.ts';
import { publicRecord, type SubmitTaskInput, submitTaskSchema, type TaskRecord } from './task-record.ts';
import { parseInput } from './validation.ts';

export interface TaskSubmissionPorts {
  /** Writes the record unless one with its id exists; returns the existing record in that case. */
  putTaskIfAbsent(record: TaskRecord): Promise<TaskRecord | undefined>;
  getTask(taskId: string): Promise<TaskRecord | undefined>;
  deleteTask(taskId: string): Promise<void>;
  contextExists(contextId: string): Promise<boolean>;
  /** The task queue the worker consumes. */
  queue: TaskQueue;
  now(): Date;
}

const idempotencyKey = z.string().min(1).max(256);

/**
 * The largest task accepted: its queue message must fit in an SQS message (256 KB) with room for
 * what a retry adds (decision, route, attempts).
 */
export const MAX_TASK_BYTES = 200_000;

/** Accepts tasks: validates, records once per idempotency key, hands each to the task queue once. */
export class TaskSubmission {
  readonly #ports: TaskSubmissionPorts;
  constructor(ports: TaskSubmissionPorts) {
    this.#ports = ports;
  }

  /**
   * Submits a task. The idempotency key is the `Idempotency-Key` header, else the task id: a
   * repeat with the same key and the same request returns the first task and queues nothing;
   * the same key with a different request is a conflict. Without either, every call is new.
   */
  async submit(
    input: SubmitTaskInput,
    options: { idempotencyKey?: string } = {},
  ): Promise<{ created: boolean; task: TaskRecord }> {
    const request = parseInput(submitTaskSchema, input, 'task');
    const key =
      options.idempotencyKey === undefined
        ? request.id
        : parseInput(idempotencyKey, options.idempotencyKey, 'Idempotency-Key');
    const requestHash = hash(canonical(request));
    const taskId = request.id ?? (key === undefined ? `t_${randomUUID()}` : `t_${hash(key).slice(0, 32)}`);
    const { strategy, ...fields } = request;
    const task = { ...fields, id: taskId };
    const bytes = Buffer.byteLength(JSON.stringify(task));
    if (bytes > MAX_TASK_BYTES) {
      throw new PayloadTooLargeError(
        `task is ${bytes} bytes; at most ${MAX_TASK_BYTES} can be queued (pass large inputs by reference)`,
      );
    }
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
      if (existing.requestHash !== requestHash) {
        throw new ConflictError(
          `${options.idempotencyKey === undefined ? 'task id' : 'Idempotency-Key'} '${key ?? taskId}' was already used for a different request`,
        );
      }
      return { created: false, task: publicRecord(existing) };
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
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted keys, so that the same request hashes the same whatever its key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
