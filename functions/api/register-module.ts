import * as responses from '../../lib/handler/api-responses.ts';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { moduleManager } from '../../lib/wiring/modules.ts';

/** POST /modules: registers or updates a module (dependencies must exist, no cycles). */
export const handler = httpRoute({
  body: schemas.registerModule,
  responses: { 200: responses.moduleRecord },
  async handle({ body }) {
    return { status: 200, body: await moduleManager().register(body) };
  },
});
