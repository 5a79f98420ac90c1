import { NotFoundError } from '../../lib/core/errors.ts';
import * as responses from '../../lib/handler/api-responses.ts';
import { paths, queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService, workflowStore } from '../../lib/wiring/workflows.ts';

/**
 * GET /workflows/{workflowId}: the current template and every published version; with
 * `?version=N`, the template of that version instead of the current one.
 */
export const handler = httpRoute({
  path: paths.workflowId,
  query: queries.getWorkflow,
  responses: { 200: responses.workflowDetail },
  async handle({ path, query }) {
    const detail = await workflowService().get(path.workflowId);
    if (query.version === undefined || query.version === detail.currentVersion)
      return { status: 200, body: detail };
    const published = await workflowStore().getVersion(detail.workflowId, query.version);
    if (!published) throw new NotFoundError('workflow version', `${detail.workflowId}@${query.version}`);
    return { status: 200, body: { ...detail, template: published.template } };
  },
});
