import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { routing } from '../../lib/wiring/routing.ts';

/** GET /routing/policies/{version}: one version (0 is the built-in policy). */
export const handler = httpRoute({
  path: paths.policyVersion,
  responses: { 200: responses.policyVersion },
  async handle({ path }) {
    return { status: 200, body: await routing().policies.get(path.version) };
  },
});
