import * as z from 'zod';
import { identifier } from './names.ts';
import { priority } from './priority.ts';
import type { TaskRecord } from './task-record.ts';

/** The recorded outcome of one task: what memory stores and what the brain learns from. */
export const taskResultSchema = z
  .object({
    taskId: identifier,
    taskType: identifier,
    service: identifier,
    action: identifier.optional(),
    priority: priority.default('normal'),
    success: z.boolean(),
    executionMs: z.number().min(0).max(86_400_000),
    /** Normalised to `toISOString()` form so that stored sort keys order correctly. */
    completedAt: z.iso
      .datetime()
      .default(() => new Date().toISOString())
      .transform((value) => new Date(value).toISOString()),
    parameters: z.record(z.string(), z.unknown()).default({}),
    output: z.unknown().optional(),
    error: z
      .object({ kind: z.enum(['timeout', 'error', 'rejected']), message: z.string().max(2_000) })
      .strict()
      .optional(),
    contextId: identifier.optional(),
  })
  .strict()
  .refine((r) => r.success || r.error !== undefined, {
    message: 'a failed result must say why',
    path: ['error'],
  });
export type TaskResult = z.output<typeof taskResultSchema>;
export type TaskResultInput = z.input<typeof taskResultSchema>;

const MAX_PATTERN_PARAMETERS = 5;
const MAX_PATTERN_VALUE_LENGTH = 40;

/**
 * The features of a result that success patterns are counted on: the service, the hour of day
 * (UTC) and short scalar parameter values (see {@link parameterFeatures}).
 */
export function patternKeys(result: TaskResult): string[] {
  const hour = result.completedAt.slice(11, 13);
  return [`service:${result.service}`, `hour:${hour}`, ...parameterFeatures(result.parameters)];
}

/**
 * The parameter features of a task: short scalar values, as `param:<name>=<value>`. Long or
 * structured values (prompts, documents) are left out: they rarely repeat and would only grow the
 * pattern library.
 */
export function parameterFeatures(parameters: Record<string, unknown>): string[] {
  return Object.entries(parameters)
    .filter(
      ([, v]) =>
        ['string', 'number', 'boolean'].includes(typeof v) && String(v).length <= MAX_PATTERN_VALUE_LENGTH,
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_PATTERN_PARAMETERS)
    .map(([k, v]) => `param:${k}=${String(v)}`);
}

/**
 * A finished task as a result: the service of its last call, that call's latency, and its output
 * or error. Undefined while the task is not finished.
 */
export function resultFromRecord(record: TaskRecord): TaskResult | undefined {
  if (record.status !== 'SUCCEEDED' && record.status !== 'FAILED') return undefined;
  const last = record.attempts.at(-1);
  const success = record.status === 'SUCCEEDED';
  return {
    taskId: record.taskId,
    taskType: record.task.type,
    service: last?.service ?? 'none',
    action: record.task.action,
    priority: record.task.priority,
    success,
    executionMs: last?.latencyMs ?? 0,
    completedAt: record.completedAt ?? record.updatedAt,
    parameters: record.task.parameters,
    output: success ? record.output : undefined,
    error: success
      ? undefined
      : {
          kind:
            last?.error?.kind === 'timeout'
              ? 'timeout'
              : last?.error?.kind === 'rejected'
                ? 'rejected'
                : 'error',
          message: (record.error?.message ?? 'failed').slice(0, 2_000),
        },
    contextId: record.task.contextId,
  };
}

/** A result reported from outside the task path, kept as the finished task it describes. */
export function recordFromResult(result: TaskResult): TaskRecord {
  const status = result.success ? 'SUCCEEDED' : 'FAILED';
  return {
    taskId: result.taskId,
    task: {
      id: result.taskId,
      type: result.taskType,
      action: result.action,
      priority: result.priority,
      keywords: [],
      parameters: result.parameters,
      resources: {},
      contextId: result.contextId,
    },
    status,
    seq: 1,
    requestHash: '',
    attempts: [
      {
        service: result.service,
        attempt: 1,
        outcome: result.success ? 'succeeded' : 'failed',
        latencyMs: result.executionMs,
        error: result.error,
        at: result.completedAt,
      },
    ],
    output: result.output,
    error: result.error,
    createdAt: result.completedAt,
    updatedAt: result.completedAt,
    completedAt: result.completedAt,
  };
}
