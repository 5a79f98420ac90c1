import { controlExecution } from '../../lib/handler/control-execution.ts';

/** POST /executions/{executionId}/cancel. */
export const handler = controlExecution('cancel');
