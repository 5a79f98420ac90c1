import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';

/**
 * POST /tasks: accepts a task and starts its pipeline. Idempotent on the `Idempotency-Key`
 * header, else on the task id: a repeat returns the same task (200) and starts nothing.
 */
export const handler = httpRoute({
  body: schemas.submitTask,
  async handle({ body, headers, orchestrator }) {
    const { created, task } = await orchestrator.tasks.submit(body, {
      idempotencyKey: headers['idempotency-key'],
    });
    return { status: created ? 202 : 200, body: task, headers: { location: `/tasks/${task.taskId}` } };
  },
});
