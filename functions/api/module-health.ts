import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { moduleManager } from '../../lib/wiring/modules.ts';

/** GET /modules/health: totals of modules, enabled, healthy, degraded, unhealthy. */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.moduleHealthSummary },
  async handle() {
    return { status: 200, body: await moduleManager().healthSummary() };
  },
});
