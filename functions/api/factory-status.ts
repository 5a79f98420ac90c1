import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/** GET /services/{name}/status: asks the factory itself (`GET {endpoint}/status`). */
export const handler = httpRoute({
  path: paths.name,
  async handle({ path, orchestrator }) {
    const service = await orchestrator.services.get(path.name);
    return {
      status: 200,
      body: {
        service: service.name,
        status: await askFactory(() => orchestrator.factories.status(service.endpoint)),
      },
    };
  },
});

/** A factory that does not answer is reported, not turned into a 500 of ours. */
export async function askFactory(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    return { reachable: false, error: (error as Error).message };
  }
}
