import { controlExecution } from '../../lib/handler/control-execution.ts';

/** POST /executions/{executionId}/resume. */
export const handler = controlExecution('resume');
