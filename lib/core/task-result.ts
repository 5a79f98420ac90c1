import * as z from 'zod';
import { identifier } from './names.ts';
import { priority } from './priority.ts';

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
 * (UTC) and short scalar parameter values. Long or structured values (prompts, documents) are
 * left out: they rarely repeat and would only grow the pattern library.
 */
export function patternKeys(result: TaskResult): string[] {
  const hour = result.completedAt.slice(11, 13);
  const parameters = Object.entries(result.parameters)
    .filter(
      ([, v]) =>
        ['string', 'number', 'boolean'].includes(typeof v) && String(v).length <= MAX_PATTERN_VALUE_LENGTH,
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_PATTERN_PARAMETERS)
    .map(([k, v]) => `param:${k}=${String(v)}`);
  return [`service:${result.service}`, `hour:${hour}`, ...parameters];
}
