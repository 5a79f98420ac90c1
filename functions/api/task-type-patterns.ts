import * as responses from '../../lib/handler/api-responses.ts';
import { paths } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { memory } from '../../lib/wiring/memory.ts';

/** GET /patterns/{type}: long-term statistics per service and the success patterns learned. */
export const handler = httpRoute({
  path: paths.taskType,
  responses: { 200: responses.taskTypePatterns },
  async handle({ path }) {
    const [statistics, patterns] = await Promise.all([
      memory().statistics(path.type),
      memory().successPatterns(path.type),
    ]);
    return {
      status: 200,
      body: {
        taskType: path.type,
        statistics: { overall: statistics.overall, services: statistics.services },
        patterns,
      },
    };
  },
});
