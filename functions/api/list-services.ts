import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /services: every registered service with its health and load. */
export const handler = httpRoute({
  query: queries.none,
  async handle({ orchestrator }) {
    return { status: 200, body: { services: await orchestrator.services.list() } };
  },
});
