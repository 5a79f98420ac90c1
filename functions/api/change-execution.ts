import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/**
 * POST /executions/{executionId}/changes: changes a paused run (see `WorkflowService.change`).
 * 400/422 for an invalid change (naming the field), 409 when the run is not paused, a step
 * still runs, or the change touches a step that has started.
 */
export const handler = httpRoute({
  path: paths.executionId,
  body: schemas.changeExecution,
  responses: { 200: responses.execution },
  async handle({ path, body }) {
    return { status: 200, body: await workflowService().change(path.executionId, body) };
  },
});
