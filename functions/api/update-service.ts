import * as responses from '../../lib/handler/api-responses.ts';
import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { serviceRegistry } from '../../lib/wiring/services.ts';

/** PATCH /services/{name}: changes registered fields; with `version` it is refused (409) if the service moved on. */
export const handler = httpRoute({
  path: paths.name,
  body: schemas.updateService,
  responses: { 200: responses.service },
  async handle({ path, body }) {
    const { version, ...patch } = body;
    return { status: 200, body: await serviceRegistry().update(path.name, patch, version) };
  },
});
