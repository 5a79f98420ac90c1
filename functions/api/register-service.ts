import * as responses from '../../lib/handler/api-responses.ts';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { serviceRegistry } from '../../lib/wiring/services.ts';

/** POST /services: registers a factory service (409 if the name is taken). */
export const handler = httpRoute({
  body: schemas.registerService,
  responses: { 201: responses.service },
  async handle({ body }) {
    const service = await serviceRegistry().register(body);
    return { status: 201, body: service, headers: { location: `/services/${service.name}` } };
  },
});
