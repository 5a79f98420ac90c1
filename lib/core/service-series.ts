import * as z from 'zod';
import { NotFoundError, ValidationError } from './errors.ts';
import { instant } from './list-window.ts';
import { identifier } from './names.ts';
import { latencyQuantileMs, type OutcomeCounters } from './statistics.ts';
import { parseInput } from './validation.ts';

/**
 * A service's calls over time (`GET /services/{name}/stats`): success, failures, timeouts and
 * latency percentiles per minute or per hour, over every task type, from the counters the router
 * already keeps (per-minute counters for 7 days, hourly ones for 90).
 */
export type Granularity = 'minute' | 'hour';

/** The widest window of each granularity: 1,440 minutes, or 7 days of hours (one read per hour). */
export const MAX_SERIES_MS: Readonly<Record<Granularity, number>> = {
  minute: 86_400_000,
  hour: 7 * 86_400_000,
};

export const seriesQuery = z
  .object({
    since: instant.optional(),
    until: instant.optional(),
    granularity: z.enum(['minute', 'hour']).optional(),
  })
  .strict();
export type SeriesQuery = z.output<typeof seriesQuery>;

/** The answer's shape, for the API's contract and its OpenAPI document. */
export const serviceSeriesSchema = z
  .object({
    service: z.string(),
    granularity: z.enum(['minute', 'hour']),
    since: z.iso.datetime(),
    until: z.iso.datetime(),
    points: z.array(
      z
        .object({
          at: z.iso.datetime(),
          calls: z.number().int().min(0),
          successes: z.number().int().min(0),
          failures: z.number().int().min(0),
          timeouts: z.number().int().min(0),
          p50Ms: z.number().optional(),
          p95Ms: z.number().optional(),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'ServiceSeries', description: "A service's calls per minute or hour" });

/**
 * Every minute or hour of the window, oldest first; those without calls count zero. The
 * percentiles are histogram bucket bounds, absent with no calls.
 */
export type ServiceSeries = z.output<typeof serviceSeriesSchema>;
export type SeriesPoint = ServiceSeries['points'][number];

export interface ServiceSeriesPorts {
  serviceExists(name: string): Promise<boolean>;
  /** The service's counters per minute (`yyyy-mm-ddThh:mm`) or hour (`yyyy-mm-ddThh`) from `from` to `to`. */
  counters(
    service: string,
    from: Date,
    to: Date,
    granularity: Granularity,
  ): Promise<Array<{ period: string; counters: OutcomeCounters }>>;
  now(): Date;
}

/** Reads a service's series. */
export async function serviceSeries(
  ports: ServiceSeriesPorts,
  name: string,
  query: SeriesQuery,
): Promise<ServiceSeries> {
  const service = parseInput(identifier, name, 'name');
  const until = query.until === undefined ? ports.now() : new Date(query.until);
  const granularity = query.granularity ?? 'minute';
  const since =
    query.since === undefined
      ? new Date(until.getTime() - (granularity === 'minute' ? 3_600_000 : 86_400_000))
      : new Date(query.since);
  if (since > until) throw new ValidationError([{ field: 'query.since', message: 'is after until' }]);
  if (until.getTime() - since.getTime() > MAX_SERIES_MS[granularity]) {
    throw new ValidationError([
      {
        field: 'query.since',
        message: `a ${granularity} series spans at most ${granularity === 'minute' ? '24 hours' : '7 days'}: narrow since/until or use granularity=hour`,
      },
    ]);
  }
  if (!(await ports.serviceExists(service))) throw new NotFoundError('service', service);
  const rows = new Map(
    (await ports.counters(service, since, until, granularity)).map((r) => [r.period, r.counters]),
  );
  const step = granularity === 'minute' ? 60_000 : 3_600_000;
  const width = granularity === 'minute' ? 16 : 13;
  const points: SeriesPoint[] = [];
  for (let t = Math.floor(since.getTime() / step) * step; t <= until.getTime(); t += step) {
    const at = new Date(t).toISOString();
    const counters = rows.get(at.slice(0, width));
    points.push(
      counters
        ? {
            at,
            calls: counters.count,
            successes: counters.successes,
            failures: counters.failures,
            timeouts: counters.timeouts,
            p50Ms: finite(latencyQuantileMs(counters, 0.5)),
            p95Ms: finite(latencyQuantileMs(counters, 0.95)),
          }
        : { at, calls: 0, successes: 0, failures: 0, timeouts: 0 },
    );
  }
  return { service, granularity, since: since.toISOString(), until: until.toISOString(), points };
}

/** A bound past the last histogram bucket is infinite: JSON has no such number, so it is left out. */
function finite(ms: number | undefined): number | undefined {
  return ms !== undefined && Number.isFinite(ms) ? ms : undefined;
}
