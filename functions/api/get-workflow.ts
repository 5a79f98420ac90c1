import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /workflows/{workflowId}: the current template and every published version. */
export const handler = httpRoute({
  path: paths.workflowId,
  async handle({ path, orchestrator }) {
    return { status: 200, body: await orchestrator.workflows.get(path.workflowId) };
  },
});
