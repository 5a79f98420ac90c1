import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { selfImprovement } from '../../lib/wiring/improvement.ts';

/** POST /suggestions/{id}/reject: a person rejects a pending suggestion. */
export const handler = httpRoute({
  path: paths.suggestionId,
  body: schemas.decideSuggestion,
  responses: { 200: responses.suggestion },
  async handle({ path, body }) {
    return { status: 200, body: await selfImprovement().reject(path.id, body) };
  },
});
