import document from '../../docs/openapi.json' with { type: 'json' };
import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/**
 * GET /openapi.json: the OpenAPI 3.1 document of this API, as `npm run openapi` generated it from
 * the routes' own schemas. Bundled with the function, so answering reads nothing.
 */
export const handler = httpRoute({
  query: queries.none,
  responses: { 200: responses.openApiDocument },
  async handle() {
    return { status: 200, body: document };
  },
});
