import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/** GET /workflows/{workflowId}: the current template and every published version. */
export const handler = httpRoute({
  path: paths.workflowId,
  async handle({ path }) {
    return { status: 200, body: await workflowService().get(path.workflowId) };
  },
});
