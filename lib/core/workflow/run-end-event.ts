import * as z from 'zod';
import type { RunEnd } from './workflow-records.ts';

/**
 * Step Functions' "Execution Status Change" event, as EventBridge delivers it: what ends a run on
 * AWS whether anyone reads it or not (Standard runs that succeed record no end of their own).
 */
export const executionStatusChange = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  source: z.literal('aws.states'),
  detail: z.object({
    executionArn: z.string().min(1),
    name: z.string().min(1),
    status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
    stopDate: z.number().nullish(),
    /** The execution input, as JSON text; left out by EventBridge when it is too large. */
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionStatusChange = z.output<typeof executionStatusChange>;

/** The run an ended execution belongs to, and how it ended. */
export function runEndOf(
  event: ExecutionStatusChange,
  now: Date,
): { runId: string; executionArn: string; end: RunEnd } {
  const { detail } = event;
  return {
    runId: runIdOf(detail.input, detail.name),
    executionArn: detail.executionArn,
    end: {
      status: detail.status,
      at: new Date(detail.stopDate ?? now.getTime()).toISOString(),
      ...(detail.error ? { error: detail.error } : {}),
      ...(detail.cause ? { cause: detail.cause.slice(0, 2_000) } : {}),
    },
  };
}

/**
 * A run's id is in its execution input (`run.id`): a redriven, resumed or changed run's execution
 * has a name of its own (`<run>-r2`). Without the input, the first execution is named after its run.
 */
function runIdOf(input: string | null | undefined, name: string): string {
  try {
    const id = (JSON.parse(input ?? '') as { run?: { id?: unknown } }).run?.id;
    if (typeof id === 'string' && id.length > 0) return id;
  } catch {
    // Not JSON (cut short): the name it is.
  }
  return name.replace(/-r\d+$/, '');
}
