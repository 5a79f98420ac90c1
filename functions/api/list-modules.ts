import * as responses from '../../lib/handler/api-responses.ts';
import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { moduleManager } from '../../lib/wiring/modules.ts';

/** GET /modules?category=&enabled=: modules, optionally of one category, or only enabled or disabled ones. */
export const handler = httpRoute({
  query: queries.listModules,
  responses: { 200: responses.moduleList },
  async handle({ query }) {
    return { status: 200, body: { modules: await moduleManager().list(query) } };
  },
});
