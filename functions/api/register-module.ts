import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { moduleManager } from '../../lib/wiring/modules.ts';

/** POST /modules: registers or updates a module (dependencies must exist, no cycles). */
export const handler = httpRoute({
  body: schemas.registerModule,
  async handle({ body }) {
    return { status: 200, body: await moduleManager().register(body) };
  },
});
