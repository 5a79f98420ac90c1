import * as z from 'zod';
import type { Decision } from './brain.ts';
import { type RoutingDecision, strategyName } from './routing/router.ts';
import { taskSchema } from './task.ts';

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

/** One call to one factory service. */
export interface CallAttempt {
  service: string;
  attempt: number;
  outcome: 'succeeded' | 'failed';
  latencyMs: number;
  error?:
    | { kind: 'timeout' | 'error' | 'rejected'; message: string; status?: number | undefined }
    | undefined;
  at: string;
}

/** The life of one submitted task, as `GET /tasks/{id}` shows it. */
export interface TaskRecord {
  taskId: string;
  task: z.output<typeof taskSchema>;
  strategy?: z.output<typeof strategyName> | undefined;
  status: TaskStatus;
  idempotencyKey?: string | undefined;
  /** Hash of the request, so that a key reused for a different request is refused. */
  requestHash: string;
  executionId?: string | undefined;
  decision?: Decision | undefined;
  route?: RoutingDecision | undefined;
  attempts: CallAttempt[];
  output?: unknown;
  error?: { kind: string; message: string } | undefined;
  createdAt: string;
  updatedAt: string;
}
