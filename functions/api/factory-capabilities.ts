import { askFactory } from '../../lib/factories/ask-factory.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { factoryClient } from '../../lib/wiring/factories.ts';
import { serviceRegistry } from '../../lib/wiring/services.ts';

/** GET /services/{name}/capabilities: the factory's own list of actions (`GET {endpoint}/capabilities`). */
export const handler = httpRoute({
  path: paths.name,
  async handle({ path }) {
    const service = await serviceRegistry().get(path.name);
    return {
      status: 200,
      body: {
        service: service.name,
        registered: service.capabilities,
        reported: await askFactory(() => factoryClient().capabilities(service.endpoint)),
      },
    };
  },
});
