import { serviceSeriesSchema } from '../../lib/core/service-series.ts';
import { paths, queries } from '../../lib/handler/api-schemas.ts';
import { httpRoute } from '../../lib/handler/http-route.ts';
import { serviceStats } from '../../lib/wiring/services.ts';

/** GET /services/{name}/stats?since=&until=&granularity=minute|hour: the service's calls over time. */
export const handler = httpRoute({
  path: paths.name,
  query: queries.serviceStats,
  responses: { 200: serviceSeriesSchema },
  async handle({ path, query }) {
    return { status: 200, body: await serviceStats()(path.name, query) };
  },
});
