import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { memory } from '../../lib/wiring/memory.ts';

/** GET /contexts/{contextId}: a context that exists and has not expired. */
export const handler = httpRoute({
  path: paths.contextId,
  responses: { 200: responses.context },
  async handle({ path }) {
    return { status: 200, body: await memory().getContext(path.contextId) };
  },
});
