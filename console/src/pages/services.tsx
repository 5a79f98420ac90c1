import { useState } from 'preact/hooks';
import { api, apiPath } from '../api.ts';
import type { Service, ServiceStats, StatsPoint } from '../api-types.ts';
import { Sparkline } from '../charts.tsx';
import { Empty, ErrorNote, Fact, Loading, PageTitle, StatusBadge } from '../components.tsx';
import { formatDuration, formatPercent, formatTime } from '../format.ts';
import { usePoll } from '../poll.ts';

const WINDOWS = {
  hour: { label: 'Last hour, per minute', ms: 3_600_000, granularity: 'minute' },
  day: { label: 'Last 24 hours, per hour', ms: 86_400_000, granularity: 'hour' },
} as const;
type WindowId = keyof typeof WINDOWS;

const REFRESH_MS = 5_000;

interface ServiceWithStats {
  service: Service;
  stats?: ServiceStats;
  error?: unknown;
}

/**
 * Every registered service: health, load, and over a window its calls, success rate and p95 as
 * numbers and small charts (`GET /services/{name}/stats`).
 */
export function ServicesPage() {
  const [windowId, setWindowId] = useState<WindowId>('hour');
  const window = WINDOWS[windowId];
  const services = usePoll<ServiceWithStats[]>(
    `services:${windowId}`,
    async () => {
      const { services: list } = await api<{ services: Service[] }>('GET', '/services');
      const since = new Date(Date.now() - window.ms).toISOString();
      return Promise.all(
        list.map(async (service) => {
          try {
            const stats = await api<ServiceStats>('GET', apiPath('services', service.name, 'stats'), {
              query: { since, granularity: window.granularity },
            });
            return { service, stats };
          } catch (error) {
            return { service, error };
          }
        }),
      );
    },
    { intervalMs: REFRESH_MS },
  );
  return (
    <section>
      <PageTitle title="Services">Services</PageTitle>
      <fieldset class="segmented">
        <legend>Window</legend>
        {(Object.keys(WINDOWS) as WindowId[]).map((id) => (
          <label key={id}>
            <input type="radio" name="window" checked={windowId === id} onChange={() => setWindowId(id)} />
            {WINDOWS[id].label}
          </label>
        ))}
      </fieldset>
      <ErrorNote error={services.error} prefix="Could not list the services" />
      {services.loading && !services.data ? <Loading what="services" /> : null}
      {services.data?.length === 0 ? (
        <Empty>
          No service is registered. Register one with POST /services or `npx vobee services register`.
        </Empty>
      ) : null}
      <div class="cards">
        {services.data?.map((entry) => (
          <ServiceCard key={entry.service.name} entry={entry} />
        ))}
      </div>
    </section>
  );
}

function totals(points: readonly StatsPoint[]) {
  const calls = points.reduce((sum, p) => sum + p.calls, 0);
  const successes = points.reduce((sum, p) => sum + p.successes, 0);
  const timeouts = points.reduce((sum, p) => sum + p.timeouts, 0);
  const p95s = points.map((p) => p.p95Ms).filter((v): v is number => typeof v === 'number');
  return { calls, successes, timeouts, worstP95: p95s.length > 0 ? Math.max(...p95s) : undefined };
}

function ServiceCard({ entry }: { entry: ServiceWithStats }) {
  const { service, stats, error } = entry;
  const points = stats?.points ?? [];
  const sum = totals(points);
  const titleId = `service-${service.name}`;
  return (
    <article class="card" aria-labelledby={titleId} data-service={service.name}>
      <h2 id={titleId}>
        {service.name} <StatusBadge status={service.health} />
        {service.enabled ? null : <StatusBadge status="disabled" label="disabled" />}
      </h2>
      <dl class="facts">
        <Fact term="Factory type">{service.factoryType ?? '—'}</Fact>
        <Fact term="Load">{service.load}</Fact>
        <Fact term="Calls">{stats ? sum.calls : '—'}</Fact>
        <Fact term="Success">{stats && sum.calls > 0 ? formatPercent(sum.successes / sum.calls) : '—'}</Fact>
        <Fact term="p95 (worst interval)">
          {sum.worstP95 === undefined ? '—' : formatDuration(sum.worstP95)}
        </Fact>
        {sum.timeouts > 0 ? <Fact term="Timeouts">{sum.timeouts}</Fact> : null}
        {service.healthReason ? <Fact term="Health reason">{service.healthReason}</Fact> : null}
        {service.cooldownUntil ? <Fact term="Ejected until">{formatTime(service.cooldownUntil)}</Fact> : null}
        <Fact term="Endpoint">
          <code>{service.endpoint}</code>
        </Fact>
        <Fact term="Capabilities">{service.capabilities.join(', ')}</Fact>
      </dl>
      {error ? <ErrorNote error={error} prefix="No statistics" /> : null}
      {stats && points.length === 0 ? <Empty>No calls in this window.</Empty> : null}
      {stats && points.length > 0 ? (
        <div class="sparks">
          <Sparkline values={points.map((p) => p.calls)} label="Calls" unit="per interval" />
          <Sparkline
            values={points.map((p) => (p.calls > 0 ? (100 * p.successes) / p.calls : null))}
            label="Success"
            unit="%"
          />
          <Sparkline values={points.map((p) => p.p95Ms)} label="p95" unit="ms" />
        </div>
      ) : null}
    </article>
  );
}
