import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { askFactory } from './factory-status.ts';

/** GET /services/{name}/capabilities: the factory's own list of actions (`GET {endpoint}/capabilities`). */
export const handler = httpRoute({
  path: paths.name,
  async handle({ path, orchestrator }) {
    const service = await orchestrator.services.get(path.name);
    return {
      status: 200,
      body: {
        service: service.name,
        registered: service.capabilities,
        reported: await askFactory(() => orchestrator.factories.capabilities(service.endpoint)),
      },
    };
  },
});
