import { taskList } from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { taskQueries } from '../../lib/wiring/task-queries.ts';

/** GET /tasks?status=&type=&since=&until=&limit=&nextToken=: tasks, newest first, a page at a time. */
export const handler = httpRoute({
  query: queries.listTasks,
  responses: { 200: taskList },
  async handle({ query }) {
    return { status: 200, body: await taskQueries().list(query) };
  },
});
