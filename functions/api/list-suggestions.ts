import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { selfImprovement } from '../../lib/wiring/improvement.ts';

/** GET /suggestions?priority=&status=: suggestions, most urgent first (pending ones by default). */
export const handler = httpRoute({
  query: queries.listSuggestions,
  async handle({ query }) {
    const improvement = selfImprovement();
    const suggestions =
      query.status === undefined || query.status === 'pending'
        ? await improvement.pendingSuggestions(query.priority)
        : (await improvement.listSuggestions(query.status)).filter(
            (s) => !query.priority || s.priority === query.priority,
          );
    return { status: 200, body: { suggestions } };
  },
});
