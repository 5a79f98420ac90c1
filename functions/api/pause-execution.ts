import { controlExecution } from './control-execution.ts';

/** POST /executions/{executionId}/pause. */
export const handler = controlExecution('pause');
