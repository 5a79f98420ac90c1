import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { memory } from '../../lib/wiring/memory.ts';

/** GET /memory/relevant?type=&limit=: recent results of a task type, newest first. */
export const handler = httpRoute({
  query: queries.relevantMemories,
  responses: { 200: responses.relevantMemories },
  async handle({ query }) {
    const memories = await memory().relevantMemories(query.type, query.limit ?? 10);
    return { status: 200, body: { taskType: query.type, memories } };
  },
});
