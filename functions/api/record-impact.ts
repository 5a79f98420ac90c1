import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { selfImprovement } from '../../lib/wiring/improvement.ts';

/** POST /suggestions/{id}/impact: records before/after metrics of an accepted suggestion that was carried out. */
export const handler = httpRoute({
  path: paths.suggestionId,
  body: schemas.recordImpact,
  responses: { 200: responses.suggestion },
  async handle({ path, body }) {
    return { status: 200, body: await selfImprovement().trackImprovement(path.id, body) };
  },
});
