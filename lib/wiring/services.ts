import { ServiceRegistry } from '../core/service-registry.ts';
import { RegistryStore } from '../store/registry-store.ts';
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
