import { factoryClient } from '../wiring/factories.ts';
import { serviceRegistry } from '../wiring/services.ts';
import { factoryCapabilities, factoryStatus } from './api-responses.ts';
import { paths } from './api-schemas.ts';
import { httpRoute } from './http-route.ts';

/**
 * GET /services/{name}/status | capabilities: asks the service's factory itself. A factory that
 * does not answer is reported in the body (`reachable: false`), not turned into a 500 of ours.
 */
export function factoryQuestion(question: 'status' | 'capabilities') {
  return httpRoute({
    path: paths.name,
    responses: { 200: question === 'status' ? factoryStatus : factoryCapabilities },
    async handle({ path }) {
      const service = await serviceRegistry().get(path.name);
      let answer: unknown;
      try {
        answer = await factoryClient()[question](service.endpoint);
      } catch (error) {
        answer = { reachable: false, error: (error as Error).message };
      }
      const body =
        question === 'status'
          ? { service: service.name, status: answer }
          : { service: service.name, registered: service.capabilities, reported: answer };
      return { status: 200, body };
    },
  });
}
