import * as responses from '../../lib/handler/api-responses.ts';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { memory } from '../../lib/wiring/memory.ts';

/** POST /contexts: creates a named context shared by related tasks (409 if it exists). */
export const handler = httpRoute({
  body: schemas.createContext,
  responses: { 201: responses.context },
  async handle({ body }) {
    const context = await memory().createContext(body.id, body.data, {
      ttlSeconds: body.ttlSeconds,
    });
    return { status: 201, body: context, headers: { location: `/contexts/${context.id}` } };
  },
});
