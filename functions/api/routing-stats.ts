import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { reports } from '../../lib/wiring/reports.ts';

/** GET /routing/stats: routes in total, per service and per strategy. */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.routingStats },
  async handle() {
    return { status: 200, body: await reports().routingStats() };
  },
});
