import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { selfImprovement } from '../../lib/wiring/improvement.ts';

/** GET /improvement/report: suggestions by status and area, acceptance rate, measured impact. */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.improvementReport },
  async handle() {
    return { status: 200, body: await selfImprovement().improvementReport() };
  },
});
