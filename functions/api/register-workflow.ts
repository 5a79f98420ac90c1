import * as responses from '../../lib/handler/api-responses.ts';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { workflowService } from '../../lib/wiring/workflows.ts';

/**
 * POST /workflows: validates a template against the registered factories, compiles it to a state
 * machine and publishes it as the workflow's next version, which becomes the live one.
 */
export const handler = httpRoute({
  body: schemas.registerWorkflow,
  responses: { 201: responses.registeredWorkflow },
  async handle({ body }) {
    const { workflow, compiled } = await workflowService().register(body);
    return {
      status: 201,
      body: { ...workflow, compiled },
      headers: { location: `/workflows/${workflow.workflowId}` },
    };
  },
});
