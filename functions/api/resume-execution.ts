import { controlExecution } from './control-execution.ts';

/** POST /executions/{executionId}/resume. */
export const handler = controlExecution('resume');
