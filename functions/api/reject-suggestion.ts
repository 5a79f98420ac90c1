import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** POST /suggestions/{id}/reject: a person rejects a pending suggestion. */
export const handler = httpRoute({
  path: paths.suggestionId,
  body: schemas.decideSuggestion,
  async handle({ path, body, orchestrator }) {
    return { status: 200, body: await orchestrator.selfImprovement.reject(path.id, body) };
  },
});
