import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { decisionLog } from '../../lib/wiring/decisions.ts';

/** GET /decisions?type=&service=&since=&until=&limit=: why tasks and steps went where they went. */
export const handler = httpRoute({
  query: queries.decisions,
  responses: { 200: responses.decisionList },
  async handle({ query }) {
    return { status: 200, body: await decisionLog().list(query) };
  },
});
