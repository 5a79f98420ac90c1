import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { serviceRegistry } from '../../lib/wiring/services.ts';

/** GET /services: every registered service with its health and load. */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.serviceList },
  async handle() {
    return { status: 200, body: { services: await serviceRegistry().list() } };
  },
});
