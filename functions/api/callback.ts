import { TaskCallbacks } from '../../lib/core/task-callbacks.ts';
import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { taskCallbacks } from '../../lib/wiring/task-callbacks.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/**
 * POST /callbacks/{token}: a long-running factory reports the result of a single task or of a
 * workflow step. The token in the path is the credential (unguessable, single use), so the route
 * needs no AWS signature: factories outside the account can call it.
 */
export const handler = httpRoute({
  path: paths.token,
  body: schemas.callback,
  responses: { 200: responses.callbackAnswer },
  async handle({ path, body }) {
    const settled = TaskCallbacks.owns(path.token)
      ? await taskCallbacks().complete(path.token, body)
      : await workflowService().callback(path.token, body);
    return { status: 200, body: settled };
  },
});
