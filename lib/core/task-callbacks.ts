import { type CallbackBody, callbackBody, failureText } from './callback-body.ts';
import { taskIdOfToken, tokenHash } from './callback-tokens.ts';
import { ConflictError, NotFoundError, NotReadyError } from './errors.ts';
import type { CallObservation } from './statistics.ts';
import type { TaskQueue } from './task-message.ts';
import type { TaskRecord, TaskStatus } from './task-record.ts';
import { finishedProgress, inlineResult, type TaskProgress } from './task-worker.ts';
import { parseInput } from './validation.ts';

export interface TaskCallbackPorts {
  getTask(taskId: string): Promise<TaskRecord | undefined>;
  saveTask(taskId: string, expectedSeq: number, progress: TaskProgress): Promise<boolean>;
  recordCalls(calls: readonly CallObservation[]): Promise<void>;
  queue: TaskQueue;
  now(): Date;
}

/**
 * Callbacks of single tasks: a factory that answered 202 posts its result with the token it was
 * given. A success ends the task; a failure is saved and handed to the worker, which retries or
 * fails over as after any failed call. The callback settles the call, so it also counts it.
 */
export class TaskCallbacks {
  readonly #ports: TaskCallbackPorts;
  constructor(ports: TaskCallbackPorts) {
    this.#ports = ports;
  }

  /** True when `token` is a single task's callback token (not a workflow step's). */
  static owns(token: string): boolean {
    return taskIdOfToken(token) !== undefined;
  }

  async complete(token: string, body: unknown): Promise<{ taskId: string; status: TaskStatus }> {
    const message: CallbackBody = parseInput(callbackBody, body, 'body');
    const taskId = taskIdOfToken(token);
    const record = taskId === undefined ? undefined : await this.#ports.getTask(taskId);
    const waiting = record?.waiting;
    // A token that does not match the task it names is as unknown as one naming no task.
    if (!record || (waiting?.for === 'callback' && waiting.tokenHash !== tokenHash(token))) {
      throw new NotFoundError('callback token', `${token.slice(0, 12)}...`);
    }
    const index = record.attempts.findLastIndex((a) => a.outcome === 'waiting');
    const call = record.attempts[index];
    // The factory answered 202 and called back before the worker saved that it waits: try again soon.
    if (record.status === 'PENDING' || (record.status === 'RUNNING' && waiting === undefined)) {
      throw new NotReadyError(`task '${record.taskId}' is not waiting for its callback yet; try again`, 1);
    }
    if (record.status !== 'RUNNING' || waiting?.for !== 'callback' || !call) {
      throw new ConflictError(
        `task '${record.taskId}' is not waiting for a callback (it is ${record.status})`,
      );
    }
    const now = this.#ports.now().toISOString();
    const latencyMs = Math.max(0, Date.parse(now) - Date.parse(call.at) + call.latencyMs);
    const succeeded = message.status === 'succeeded';
    const error = succeeded
      ? undefined
      : { kind: 'error' as const, message: failureText(message.error).slice(0, 2_000) };
    const attempts = record.attempts.map((a, i) =>
      i === index
        ? {
            ...a,
            outcome: succeeded ? ('succeeded' as const) : ('failed' as const),
            latencyMs,
            error,
            at: now,
          }
        : a,
    );
    const base = {
      taskType: record.task.type,
      decision: record.decision,
      route: record.route,
      attempts,
      updatedAt: now,
    };
    const progress: TaskProgress = succeeded
      ? finishedProgress(record.task.parameters, base, now, inlineResult(call.service, message.output))
      : { ...base, status: 'RUNNING', waiting: undefined };
    if (!(await this.#ports.saveTask(record.taskId, record.seq, progress))) {
      throw new ConflictError(
        `task '${record.taskId}' changed while its callback was handled; it was not applied`,
      );
    }
    const observation: CallObservation = {
      taskType: record.task.type,
      service: call.service,
      success: succeeded,
      timedOut: false,
      latencyMs,
      at: now,
    };
    await Promise.all([
      this.#ports.recordCalls([observation]),
      error &&
        this.#ports.queue.send({
          taskId: record.taskId,
          seq: record.seq + 1,
          task: record.task,
          strategy: record.strategy,
          submittedAt: record.createdAt,
          decision: record.decision,
          route: record.route,
          attempts,
          resume: { kind: 'callback-failed', error },
        }),
    ]);
    return { taskId: record.taskId, status: progress.status };
  }
}
