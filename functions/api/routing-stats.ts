import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /routing/stats: routes in total, per service and per strategy. */
export const handler = httpRoute({
  query: queries.none,
  async handle({ orchestrator }) {
    return { status: 200, body: await orchestrator.router.stats() };
  },
});
