import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { moduleManager } from '../../lib/wiring/modules.ts';

/** POST /modules/{name}/disable: refused (409, "Required by ...") while enabled modules depend on it. */
export const handler = httpRoute({
  path: paths.name,
  responses: { 200: responses.moduleRecord },
  async handle({ path }) {
    return { status: 200, body: await moduleManager().disable(path.name) };
  },
});
