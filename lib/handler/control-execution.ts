import { workflowService } from '../wiring/workflows.ts';
import { paths } from './api-schemas.ts';
import { httpRoute } from './http-route.ts';

/**
 * POST /executions/{executionId}/pause | resume | cancel. Pause lets running steps finish and
 * starts no new one until resume; cancel stops the run. 409 when the run has already ended.
 */
export function controlExecution(action: 'pause' | 'resume' | 'cancel') {
  return httpRoute({
    path: paths.executionId,
    async handle({ path }) {
      return { status: 200, body: await workflowService()[action](path.executionId) };
    },
  });
}
