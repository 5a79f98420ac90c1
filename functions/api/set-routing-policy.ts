import * as responses from '../../lib/handler/api-responses.ts';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { routing } from '../../lib/wiring/routing.ts';

/** PUT /routing/policy: stores a policy as a new version; a draft unless `activate` is true. */
export const handler = httpRoute({
  body: schemas.changePolicy,
  responses: { 201: responses.policyVersion },
  async handle({ body }) {
    return { status: 201, body: await routing().policies.change(body) };
  },
});
