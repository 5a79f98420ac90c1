import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { selfImprovement } from '../../lib/wiring/improvement.ts';
import { routing } from '../../lib/wiring/routing.ts';

/**
 * POST /suggestions/{id}/accept: a person accepts a pending suggestion. Nothing is applied by the
 * system: a suggestion about routing becomes a draft policy version, for a person to activate.
 */
export const handler = httpRoute({
  path: paths.suggestionId,
  body: schemas.decideSuggestion,
  responses: { 200: responses.suggestion },
  async handle({ path, body }) {
    return {
      status: 200,
      body: await selfImprovement().accept(path.id, body, (suggestion, decidedBy) =>
        routing().policies.draftFor(suggestion, decidedBy),
      ),
    };
  },
});
