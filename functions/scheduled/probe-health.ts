import { probeServices } from '../../lib/core/health-probe.ts';
import { scheduledJob } from '../../lib/handler/scheduled.ts';

/** Every few minutes: `GET {endpoint}/status` of every enabled service, health updated where it changed. */
export const handler = scheduledJob('health probe', (orchestrator) =>
  probeServices(
    {
      listServices: () => orchestrator.services.list(),
      probe: async (endpoint) => {
        try {
          return { reachable: true, body: await orchestrator.factories.status(endpoint) };
        } catch (error) {
          return { reachable: false, error: (error as Error).message };
        }
      },
      setHealth: (name, health, reason) => orchestrator.services.setHealth(name, health, reason),
    },
    new Date(),
  ),
);
