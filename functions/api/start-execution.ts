import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/** POST /workflows/{workflowId}/executions: starts a run; idempotent on the `Idempotency-Key` header. */
export const handler = httpRoute({
  path: paths.workflowId,
  body: schemas.startExecution,
  responses: { 202: responses.execution, 200: responses.execution },
  async handle({ path, body, headers }) {
    const { created, execution } = await workflowService().start(path.workflowId, body.input, {
      idempotencyKey: headers['idempotency-key'],
      budget: body.budget,
    });
    return {
      status: created ? 202 : 200,
      body: execution,
      headers: { location: `/executions/${execution.executionId}` },
    };
  },
});
