import { probeServices } from '../../lib/core/health-probe.ts';
import { scheduledJob } from '../../lib/handler/scheduled.ts';
import { now } from '../../lib/wiring/context.ts';
import { factoryClient } from '../../lib/wiring/factories.ts';
import { serviceRegistry } from '../../lib/wiring/services.ts';

/** Every few minutes: `GET {endpoint}/status` of every enabled service, health updated where it changed. */
export const handler = scheduledJob('health probe', () =>
  probeServices(
    {
      listServices: () => serviceRegistry().list(),
      probe: async (endpoint) => {
        try {
          return { reachable: true, body: await factoryClient().status(endpoint) };
        } catch (error) {
          return { reachable: false, error: (error as Error).message };
        }
      },
      setHealth: (name, health, reason) => serviceRegistry().setHealth(name, health, reason),
    },
    now(),
  ),
);
