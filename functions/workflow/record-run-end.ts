import type { EventBridgeEvent } from 'aws-lambda';
import { executionStatusChange, runEndOf } from '../../lib/core/workflow/run-end-event.ts';
import { logger, observed } from '../../lib/handler/observability.ts';
import { now } from '../../lib/wiring/context.ts';
import { workflowStore } from '../../lib/wiring/workflows.ts';

/**
 * Keeps how each workflow run ended, from Step Functions' execution status changes: a run's
 * status in `GET /executions` is then right without anyone reading the run. The end of an
 * execution that is no longer its run's (redriven since) is not kept.
 */
export const handler = observed<EventBridgeEvent<string, unknown>, void>('detail.name').handler(
  async (event) => {
    const parsed = executionStatusChange.safeParse(event);
    if (!parsed.success) {
      logger.warn('not an execution status change: ignored', { detailType: event['detail-type'] });
      return;
    }
    const { runId, executionArn, end } = runEndOf(parsed.data, now());
    await workflowStore().recordRunEnd(runId, end, { executionArn });
  },
);
