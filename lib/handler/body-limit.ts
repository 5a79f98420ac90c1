import type { LimitName } from '../core/limits.ts';

/**
 * Routes (API Gateway route keys) whose body has a limit of its own. A callback carries a
 * factory's result, possibly a large output on its way to becoming an artifact; every other route
 * takes a request, limited to `apiBody`.
 */
export const ROUTE_BODY_LIMITS: Readonly<Record<string, LimitName>> = {
  'POST /callbacks/{token}': 'callbackBody',
};

/**
 * The limit of a route's body, by its route key (`POST /tasks`): the one rule both the Lambda
 * handlers and the local gateway apply.
 */
export function bodyLimitOf(routeKey: string | undefined): LimitName {
  return (routeKey !== undefined && ROUTE_BODY_LIMITS[routeKey]) || 'apiBody';
}
