import { ServiceRegistry } from '../core/service-registry.ts';
import {
  type SeriesQuery,
  type ServiceSeries,
  type ServiceSeriesPorts,
  serviceSeries,
} from '../core/service-series.ts';
import { RegistryStore } from '../store/registry-store.ts';
import { StatsStore } from '../store/stats-store.ts';
import { type BaseDeps, config, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** The service registry (registration, health) on the registry table. */
export function buildServiceRegistry(
  deps: BaseDeps & {
    allowedEndpoints: readonly string[];
  },
): ServiceRegistry {
  const registry = new RegistryStore(deps.doc, { table: deps.tables.registry });
  return new ServiceRegistry(
    {
      putService: (s, v) => registry.putService(s, v),
      getService: (name) => registry.getService(name),
      listServices: () => registry.listServices(),
      setServiceHealth: (name, health, reason, at) => registry.setServiceHealth(name, health, reason, at),
      now: deps.now,
    },
    { allowedEndpoints: deps.allowedEndpoints },
  );
}

export const serviceRegistry = memo(() =>
  buildServiceRegistry({
    ...baseDeps(),
    allowedEndpoints: config().allowedPrivateEndpoints,
  }),
);

/** A service's calls over time, from the statistics on the patterns table. */
export function buildServiceSeries(
  deps: BaseDeps,
): (name: string, query: SeriesQuery) => Promise<ServiceSeries> {
  const registry = new RegistryStore(deps.doc, { table: deps.tables.registry });
  const stats = new StatsStore(deps.doc, { table: deps.tables.patterns, now: deps.now, random: deps.random });
  const ports: ServiceSeriesPorts = {
    serviceExists: async (name) => (await registry.getService(name)) !== undefined,
    counters: (service, from, to, granularity) => stats.serviceCounters(service, from, to, granularity),
    now: deps.now,
  };
  return (name, query) => serviceSeries(ports, name, query);
}

export const serviceStats = memo(() => buildServiceSeries(baseDeps()));
