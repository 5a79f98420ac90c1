import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { selfImprovement } from '../../lib/wiring/improvement.ts';

/** GET /suggestions?priority=&status=: suggestions, most urgent first (pending ones by default). */
export const handler = httpRoute({
  query: queries.listSuggestions,
  responses: { 200: responses.suggestionList },
  async handle({ query }) {
    return { status: 200, body: { suggestions: await selfImprovement().listSuggestions(query) } };
  },
});
