import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { routing } from '../../lib/wiring/routing.ts';

/** GET /routing/policies: every stored version, newest first, and which is active. */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.policyList },
  async handle() {
    return { status: 200, body: await routing().policies.list() };
  },
});
