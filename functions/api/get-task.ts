import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { taskQueries } from '../../lib/wiring/task-queries.ts';

/** GET /tasks/{taskId}: the task with its status, decision, route, attempts and outcome. */
export const handler = httpRoute({
  path: paths.taskId,
  responses: { 200: responses.taskRecord },
  async handle({ path }) {
    return { status: 200, body: await taskQueries().get(path.taskId) };
  },
});
