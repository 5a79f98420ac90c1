import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { memory } from '../../lib/wiring/memory.ts';

/** GET /memory/summary: short-term count, task types with long-term statistics, patterns learned. */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.memorySummary },
  async handle() {
    return { status: 200, body: await memory().summary() };
  },
});
