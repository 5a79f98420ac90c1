import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** POST /modules/{name}/disable: refused (409, "Required by ...") while enabled modules depend on it. */
export const handler = httpRoute({
  path: paths.name,
  async handle({ path, orchestrator }) {
    return { status: 200, body: await orchestrator.modules.disable(path.name) };
  },
});
