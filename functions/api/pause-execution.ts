import { controlExecution } from '../../lib/handler/control-execution.ts';

/** POST /executions/{executionId}/pause. */
export const handler = controlExecution('pause');
