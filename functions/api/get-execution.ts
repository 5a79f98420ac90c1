import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /executions/{executionId}: status, current steps, each step's status and timings, results. */
export const handler = httpRoute({
  path: paths.executionId,
  async handle({ path, orchestrator }) {
    return { status: 200, body: await orchestrator.workflows.describe(path.executionId) };
  },
});
