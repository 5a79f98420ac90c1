import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { serviceRegistry } from '../../lib/wiring/services.ts';

/** PUT /services/{name}/health: sets a service healthy, degraded or unhealthy. */
export const handler = httpRoute({
  path: paths.name,
  body: schemas.setHealth,
  responses: { 200: responses.service },
  async handle({ path, body }) {
    return { status: 200, body: await serviceRegistry().setHealth(path.name, body.health, body.reason) };
  },
});
