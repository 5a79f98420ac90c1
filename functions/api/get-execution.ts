import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/** GET /executions/{executionId}: status, current steps, each step's status and timings, results. */
export const handler = httpRoute({
  path: paths.executionId,
  responses: { 200: responses.execution },
  async handle({ path }) {
    return { status: 200, body: await workflowService().describe(path.executionId) };
  },
});
