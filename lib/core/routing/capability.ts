import type { Service } from '../service.ts';
import type { Task } from '../task.ts';
import { byName, type RoutingStrategy } from './strategy.ts';

/**
 * Most specific match first: a service that names the task's action beats one that only names its
 * type, and among equals the narrower specialist (fewer capabilities) beats the generalist; then weight.
 */
export const capabilityBased: RoutingStrategy = {
  name: 'capability',
  async rank(candidates, task) {
    const ranked = [...candidates]
      .map((service) => ({ service, score: specificity(service, task) }))
      .sort(
        (a, b) => b.score - a.score || b.service.weight - a.service.weight || byName(a.service, b.service),
      );
    const first = ranked[0]?.service;
    return {
      ranked,
      because: `capability match: ${first?.name} is the most specific for ${task.action ?? task.type}`,
    };
  },
};

function specificity(service: Service, task: Task): number {
  const namesAction = task.action !== undefined && service.capabilities.includes(task.action) ? 2 : 0;
  const namesType = service.capabilities.includes(task.type) ? 1 : 0;
  return namesAction + namesType + 1 / (1 + service.capabilities.length);
}
