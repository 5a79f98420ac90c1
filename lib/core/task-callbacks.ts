import { type CallbackBody, callbackBody, failureText, keptOutput } from './callback-body.ts';
import { taskIdOfToken, tokenHash } from './callback-tokens.ts';
import { ConflictError, NotFoundError, NotReadyError } from './errors.ts';
import { taskFeatures } from './routing/task-features.ts';
import type { CallObservation } from './statistics.ts';
import { followUp, stateOf, type TaskQueue } from './task-message.ts';
import type { CallError, TaskRecord, TaskStatus } from './task-record.ts';
import { finishedProgress, type TaskProgress } from './task-worker.ts';
import { parseInput } from './validation.ts';

export interface TaskCallbackPorts {
  getTask(taskId: string): Promise<TaskRecord | undefined>;
  saveTask(taskId: string, expectedSeq: number, progress: TaskProgress): Promise<boolean>;
  recordCalls(calls: readonly CallObservation[]): Promise<void>;
  queue: TaskQueue;
  /** What is kept of a callback's output: large outputs by artifact reference (see `keepOutput`). */
  keepOutput?(output: unknown): Promise<unknown>;
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
    // The factory answered 202 and called back before the worker saved that it waits: try again soon.
    if (record?.status === 'PENDING') {
      throw new NotReadyError(`task '${record.taskId}' is not waiting for its callback yet; try again`, 1);
    }
    const waiting = record?.waiting;
    const index = record?.attempts.findLastIndex((a) => a.outcome === 'waiting');
    const call = index === undefined ? undefined : record?.attempts[index];
    // Whatever the reason a token is not the one a task waits with (no such task, a forged or used
    // token, a finished task), the answer is the same: it reveals nothing about the task.
    if (!record || waiting?.for !== 'callback' || waiting.tokenHash !== tokenHash(token) || !call) {
      throw new NotFoundError('callback token', `${token.slice(0, 12)}...`);
    }
    const succeeded = message.status === 'succeeded';
    const output = succeeded ? await keptOutput(message.output, this.#ports.keepOutput) : undefined;
    const now = this.#ports.now().toISOString();
    const latencyMs = Math.max(0, Date.parse(now) - Date.parse(call.at) + call.latencyMs);
    const error = succeeded
      ? undefined
      : { kind: 'error' as const, message: failureText(message.error).slice(0, 2_000) };
    // The factory's figure, else the price the call was made at (kept on the waiting attempt).
    const cost = message.cost ?? call.cost;
    const attempts = record.attempts.map((a, i) =>
      i === index
        ? {
            ...a,
            outcome: succeeded ? ('succeeded' as const) : ('failed' as const),
            latencyMs,
            error,
            at: now,
            cost,
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
    // A failure is saved with what follows it, so that the follow-up can be sent again if this
    // invocation stops before sending it (see `continuationOf`).
    const progress: TaskProgress = succeeded
      ? finishedProgress(record.task.parameters, base, now, { output })
      : { ...base, status: 'RUNNING', waiting: { for: 'failure', until: now, error: error as CallError } };
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
      cost,
      features: taskFeatures(record.task),
    };
    await Promise.all([
      this.#ports.recordCalls([observation]),
      progress.waiting &&
        this.#ports.queue.send(
          followUp({ ...stateOf(record), seq: record.seq + 1, attempts }, progress.waiting),
        ),
    ]);
    return { taskId: record.taskId, status: progress.status };
  }
}
