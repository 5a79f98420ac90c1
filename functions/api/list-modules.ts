import { queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { moduleManager } from '../../lib/wiring/modules.ts';

/** GET /modules?category=&enabled=: modules, optionally of one category or enabled only. */
export const handler = httpRoute({
  query: queries.listModules,
  async handle({ query }) {
    const modules = await moduleManager().list({
      category: query.category,
      enabledOnly: query.enabled === 'true',
    });
    return {
      status: 200,
      body: { modules: query.enabled === 'false' ? modules.filter((m) => !m.enabled) : modules },
    };
  },
});
