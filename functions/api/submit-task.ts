import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as responses from '../../lib/handler/api-responses.ts';
import { schemas } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { metrics } from '../../lib/handler/observability.ts';
import { taskSubmission } from '../../lib/wiring/task-submission.ts';

/**
 * POST /tasks: records the task and puts it on the task queue. Idempotent on the
 * `Idempotency-Key` header, else on the task id: a repeat returns the same task (200) and queues
 * nothing.
 */
export const handler = httpRoute({
  body: schemas.submitTask,
  responses: { 202: responses.taskRecord, 200: responses.taskRecord },
  async handle({ body, headers }) {
    const { created, task } = await taskSubmission().submit(body, {
      idempotencyKey: headers['idempotency-key'],
    });
    metrics.addMetric(created ? 'TaskSubmitted' : 'DuplicateSubmission', MetricUnit.Count, 1);
    return { status: created ? 202 : 200, body: task, headers: { location: `/tasks/${task.taskId}` } };
  },
});
