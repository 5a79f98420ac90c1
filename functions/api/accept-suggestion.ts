import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** POST /suggestions/{id}/accept: a person accepts a pending suggestion. Nothing is applied by the system. */
export const handler = httpRoute({
  path: paths.suggestionId,
  body: schemas.decideSuggestion,
  async handle({ path, body, orchestrator }) {
    return { status: 200, body: await orchestrator.selfImprovement.accept(path.id, body) };
  },
});
