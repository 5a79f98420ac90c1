import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /contexts/{contextId}: a context that exists and has not expired. */
export const handler = httpRoute({
  path: paths.contextId,
  async handle({ path, orchestrator }) {
    return { status: 200, body: await orchestrator.memory.getContext(path.contextId) };
  },
});
