import { workflowService } from '../wiring/workflows.ts';
import { execution } from './api-responses.ts';
import { paths } from './api-schemas.ts';
import { httpRoute } from './http-route.ts';

/**
 * POST /executions/{executionId}/pause | resume | cancel | redrive. Pause lets running steps
 * finish and starts no new one until resume; cancel stops the run; redrive runs a FAILED or
 * TIMED_OUT run again from the steps that did not succeed. 409 when the run is in another state.
 */
export function controlExecution(action: 'pause' | 'resume' | 'cancel' | 'redrive') {
  return httpRoute({
    path: paths.executionId,
    responses: { 200: execution },
    async handle({ path }) {
      return { status: 200, body: await workflowService()[action](path.executionId) };
    },
  });
}
