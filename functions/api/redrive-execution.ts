import { controlExecution } from '../../lib/handler/control-execution.ts';

/** POST /executions/{executionId}/redrive. */
export const handler = controlExecution('redrive');
