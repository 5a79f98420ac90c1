import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** PUT /services/{name}/health: sets a service healthy, degraded or unhealthy. */
export const handler = httpRoute({
  path: paths.name,
  body: schemas.setHealth,
  async handle({ path, body, orchestrator }) {
    return { status: 200, body: await orchestrator.services.setHealth(path.name, body.health, body.reason) };
  },
});
