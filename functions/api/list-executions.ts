import { executionList } from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/** GET /executions?status=&workflowId=&since=&until=&limit=&nextToken=: workflow runs, newest first, a page at a time. */
export const handler = httpRoute({
  query: queries.listExecutions,
  responses: { 200: executionList },
  async handle({ query }) {
    return { status: 200, body: await workflowService().listExecutions(query) };
  },
});
