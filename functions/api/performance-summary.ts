import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /performance: decisions made and task types learned. */
export const handler = httpRoute({
  query: queries.none,
  async handle({ orchestrator }) {
    return { status: 200, body: await orchestrator.brain.performanceSummary() };
  },
});
