import * as z from 'zod';
import type { Decision } from './brain.ts';
import type { RoutingDecision } from './routing/router.ts';
import { strategyName } from './routing/strategy-name.ts';
import { taskSchema } from './task.ts';

/**
 * PENDING: queued, no worker has finished with it yet. RUNNING: between two invocations, waiting
 * for a retry or for a factory's callback (see `waiting`). SUCCEEDED and FAILED are final.
 */
export const taskStatus = z.enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED']);
export type TaskStatus = z.output<typeof taskStatus>;

/** What a client sends to submit a task: the task (id optional) and, optionally, a routing strategy. */
export const submitTaskSchema = taskSchema
  .extend({
    id: taskSchema.shape.id.optional(),
    strategy: strategyName.optional(),
  })
  .strict();
export type SubmitTaskInput = z.input<typeof submitTaskSchema>;

/** Why a call failed. */
export interface CallError {
  kind: 'timeout' | 'error' | 'rejected';
  message: string;
  status?: number | undefined;
}

/** One call to one factory service. `waiting`: the factory took the work and will call back. */
export interface CallAttempt {
  service: string;
  attempt: number;
  outcome: 'succeeded' | 'failed' | 'waiting';
  latencyMs: number;
  error?: CallError | undefined;
  at: string;
  /** What the call cost (USD): the factory's report, else the service's `costPerCall`. */
  cost?: number | undefined;
}

/** What a RUNNING task waits for. */
export type TaskWaiting =
  | { for: 'retry'; until: string }
  /** A call failed by callback: the worker retries or fails over from `until` on. */
  | { for: 'failure'; until: string; error: CallError }
  /** `tokenHash` is the SHA-256 of the callback token: the token itself is never stored. */
  | { for: 'callback'; service: string; until: string; tokenHash: string };

/** The life of one submitted task, as `GET /tasks/{id}` shows it. */
export interface TaskRecord {
  taskId: string;
  task: z.output<typeof taskSchema>;
  strategy?: z.output<typeof strategyName> | undefined;
  status: TaskStatus;
  /**
   * The record's version: each save by a worker or a callback moves it on by one, on the
   * condition that it was what the saver started from. A duplicate delivery finds it moved.
   */
  seq: number;
  idempotencyKey?: string | undefined;
  /** Hash of the request, so that a key reused for a different request is refused. */
  requestHash: string;
  decision?: Decision | undefined;
  route?: RoutingDecision | undefined;
  attempts: CallAttempt[];
  waiting?: TaskWaiting | undefined;
  output?: unknown;
  error?: { kind: string; message: string } | undefined;
  createdAt: string;
  updatedAt: string;
  completedAt?: string | undefined;
  /** The summed cost of its calls (USD), when any call's cost is known. */
  costUsd?: number | undefined;
}

/** The summed cost of calls (USD); undefined when no call's cost is known. */
export function costOfCalls(attempts: readonly Pick<CallAttempt, 'cost'>[]): number | undefined {
  const known = attempts.filter((a) => a.cost !== undefined);
  if (known.length === 0) return undefined;
  // Whole millionths of a dollar: sums of small prices stay free of float noise.
  return Math.round(known.reduce((sum, a) => sum + (a.cost as number), 0) * 1e6) / 1e6;
}

/** What a client is shown of a record: everything but the callback token's hash, with its cost. */
export function publicRecord(record: TaskRecord): TaskRecord {
  const costUsd = costOfCalls(record.attempts);
  const shown = costUsd === undefined ? record : { ...record, costUsd };
  if (shown.waiting?.for !== 'callback') return shown;
  const { tokenHash: _hidden, ...waiting } = shown.waiting;
  return { ...shown, waiting: waiting as TaskWaiting };
}
