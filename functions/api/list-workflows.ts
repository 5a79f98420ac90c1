import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/** GET /workflows: registered workflows with their current and latest versions. */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.workflowList },
  async handle() {
    return { status: 200, body: { workflows: await workflowService().list() } };
  },
});
