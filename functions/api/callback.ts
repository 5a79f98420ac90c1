import { paths, schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/**
 * POST /callbacks/{token}: a long-running factory reports the result of a callback step. The
 * task token in the path is the credential (unguessable, single use), so the route needs no
 * AWS signature: factories outside the account can call it.
 */
export const handler = httpRoute({
  path: paths.token,
  body: schemas.callback,
  async handle({ path, body, orchestrator }) {
    return { status: 200, body: await orchestrator.workflows.callback(path.token, body) };
  },
});
