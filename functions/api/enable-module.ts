import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { moduleManager } from '../../lib/wiring/modules.ts';

/** POST /modules/{name}/enable: refused (409) while a dependency is disabled. */
export const handler = httpRoute({
  path: paths.name,
  responses: { 200: responses.moduleRecord },
  async handle({ path }) {
    return { status: 200, body: await moduleManager().enable(path.name) };
  },
});
