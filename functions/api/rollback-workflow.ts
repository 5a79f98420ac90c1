import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/** POST /workflows/{workflowId}/rollback: new executions run the given published version. */
export const handler = httpRoute({
  path: paths.workflowId,
  body: schemas.rollbackWorkflow,
  responses: { 200: responses.workflowHead },
  async handle({ path, body }) {
    return { status: 200, body: await workflowService().rollback(path.workflowId, body.version) };
  },
});
