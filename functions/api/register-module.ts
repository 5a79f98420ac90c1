import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** POST /modules: registers or updates a module (dependencies must exist, no cycles). */
export const handler = httpRoute({
  body: schemas.registerModule,
  async handle({ body, orchestrator }) {
    return { status: 200, body: await orchestrator.modules.register(body) };
  },
});
