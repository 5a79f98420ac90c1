import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /modules/health: totals of modules, enabled, healthy, degraded, unhealthy. */
export const handler = httpRoute({
  query: queries.none,
  async handle({ orchestrator }) {
    return { status: 200, body: await orchestrator.modules.healthSummary() };
  },
});
