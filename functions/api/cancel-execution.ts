import { controlExecution } from './control-execution.ts';

/** POST /executions/{executionId}/cancel. */
export const handler = controlExecution('cancel');
