import { askFactory } from '../../lib/factories/ask-factory.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { factoryClient } from '../../lib/wiring/factories.ts';
import { serviceRegistry } from '../../lib/wiring/services.ts';

/** GET /services/{name}/status: asks the factory itself (`GET {endpoint}/status`). */
export const handler = httpRoute({
  path: paths.name,
  async handle({ path }) {
    const service = await serviceRegistry().get(path.name);
    return {
      status: 200,
      body: {
        service: service.name,
        status: await askFactory(() => factoryClient().status(service.endpoint)),
      },
    };
  },
});
