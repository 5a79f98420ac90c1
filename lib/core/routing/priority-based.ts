import { expectedUtility } from './learned.ts';
import { roundRobin } from './load-balancing.ts';
import { byName, type RoutingStrategy } from './strategy.ts';

/**
 * Critical and high tasks go to the services with the best record (expected success and latency,
 * no exploration: urgent work is not the place to experiment). Normal and low tasks are spread
 * round-robin so that learning keeps seeing every service.
 */
export const priorityBased: RoutingStrategy = {
  name: 'priority',
  async rank(candidates, task, context) {
    if (task.priority !== 'critical' && task.priority !== 'high') {
      const spread = await roundRobin.rank(candidates, task, context);
      return { ...spread, because: `${task.priority} priority: ${spread.because}` };
    }
    const stats = new Map((await context.statsFor(task.type)).map((s) => [s.service, s]));
    const ranked = [...candidates]
      .map((service) => ({ service, score: expectedUtility(stats.get(service.name)) }))
      .sort((a, b) => b.score - a.score || byName(a.service, b.service));
    return { ranked, because: `${task.priority} priority: ${ranked[0]?.service.name} has the best record` };
  },
};
