import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { ConflictError, NotFoundError, ValidationError } from './errors.ts';
import { identifier } from './names.ts';
import type { PipelineState } from './pipeline/task-pipeline.ts';
import { type SubmitTaskInput, submitTaskSchema, type TaskRecord } from './task-record.ts';
import { parseInput } from './validation.ts';

export interface TaskSubmissionPorts {
  /** Writes the record unless one with its id exists; returns the existing record in that case. */
  putTaskIfAbsent(record: TaskRecord): Promise<TaskRecord | undefined>;
  getTask(taskId: string): Promise<TaskRecord | undefined>;
  deleteTask(taskId: string): Promise<void>;
  updateTask(taskId: string, patch: Partial<TaskRecord>): Promise<void>;
  contextExists(contextId: string): Promise<boolean>;
  /** Starts the pipeline for a task; the execution is named after the task, so a repeat start is refused by the engine too. */
  startPipeline(taskId: string, input: PipelineState): Promise<{ executionId: string }>;
  now(): Date;
}

const idempotencyKey = z.string().min(1).max(256);

/** Accepts tasks: validates, records once per idempotency key, starts one pipeline. */
export class TaskSubmission {
  readonly #ports: TaskSubmissionPorts;
  constructor(ports: TaskSubmissionPorts) {
    this.#ports = ports;
  }

  /**
   * Submits a task. The idempotency key is the `Idempotency-Key` header, else the task id: a
   * repeat with the same key and the same request returns the first task and starts nothing;
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
    if (task.contextId !== undefined && !(await this.#ports.contextExists(task.contextId))) {
      throw new ValidationError([{ field: 'contextId', message: `context '${task.contextId}' not found` }]);
    }
    const now = this.#ports.now().toISOString();
    const record: TaskRecord = {
      taskId,
      task,
      strategy,
      status: 'PENDING',
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
      return { created: false, task: existing };
    }
    try {
      const { executionId } = await this.#ports.startPipeline(taskId, { taskId, task, strategy, attempt: 0 });
      await this.#ports.updateTask(taskId, { executionId, updatedAt: this.#ports.now().toISOString() });
      return { created: true, task: { ...record, executionId } };
    } catch (error) {
      // Nothing ran: forget the task so that a retry of the same request can start it.
      await this.#ports.deleteTask(taskId);
      throw error;
    }
  }

  async get(taskId: string): Promise<TaskRecord> {
    const id = parseInput(identifier, taskId, 'taskId');
    const record = await this.#ports.getTask(id);
    if (!record) throw new NotFoundError('task', id);
    return record;
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
