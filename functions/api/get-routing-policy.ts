import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { routing } from '../../lib/wiring/routing.ts';

/** GET /routing/policy: the routing policy in force and its version (0: the built-in one). */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.activePolicy },
  async handle() {
    return { status: 200, body: await routing().policies.active() };
  },
});
