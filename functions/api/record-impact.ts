import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** POST /suggestions/{id}/impact: records before/after metrics of an accepted suggestion that was carried out. */
export const handler = httpRoute({
  path: paths.suggestionId,
  body: schemas.recordImpact,
  async handle({ path, body, orchestrator }) {
    return { status: 200, body: await orchestrator.selfImprovement.trackImprovement(path.id, body) };
  },
});
