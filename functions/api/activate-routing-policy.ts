import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { routing } from '../../lib/wiring/routing.ts';

/** POST /routing/policies/{version}/activate: routing switches to it within seconds. */
export const handler = httpRoute({
  path: paths.policyVersion,
  body: schemas.activatePolicy,
  responses: { 200: responses.activePolicy },
  async handle({ path, body }) {
    return { status: 200, body: await routing().policies.activate(path.version, body) };
  },
});
