import type { Service } from '../service.ts';
import { byName, type Ranking, type RoutingStrategy } from './strategy.ts';

/** Rotates through the candidates; the rotation is shared by every instance through a counter per task type. */
export const roundRobin: RoutingStrategy = {
  name: 'round-robin',
  async rank(candidates, task, context) {
    const ordered = [...candidates].sort(byName);
    const tick = await context.nextTick(`rr#${task.type}`);
    const start = tick % ordered.length;
    const ranked = [...ordered.slice(start), ...ordered.slice(0, start)].map((service) => ({ service }));
    // Every process starts the rotation at a random turn, so over decisions each service is as
    // likely to come first as any other.
    return {
      ranked,
      because: `round-robin turn ${tick} of ${ordered.length} services`,
      probabilities: uniform(ordered),
    };
  },
};

/** A uniform random order. */
export const random: RoutingStrategy = {
  name: 'random',
  async rank(candidates, _task, context) {
    const shuffled = [...candidates].sort(byName);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(context.random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as Service, shuffled[i] as Service];
    }
    return {
      ranked: shuffled.map((service) => ({ service })),
      because: 'random choice',
      probabilities: uniform(shuffled),
    };
  },
};

/** Fewest calls in flight per unit of weight first. */
export const leastLoaded: RoutingStrategy = {
  name: 'least-loaded',
  async rank(candidates) {
    // A zero-weight service is meant to take nothing while others can: it sorts last.
    const relativeLoad = (s: Service) => (s.weight === 0 ? Number.POSITIVE_INFINITY : s.load / s.weight);
    const ranked = [...candidates]
      .sort((a, b) => relativeLoad(a) - relativeLoad(b) || byName(a, b))
      .map((service) => ({ service, score: -relativeLoad(service) }));
    const first = ranked[0]?.service;
    return { ranked, because: `least loaded: ${first?.name} has ${first?.load} calls in flight` };
  },
};

/**
 * Weighted random order: each position is drawn with probability proportional to weight among the
 * services not yet placed (zero-weight services only ever come last).
 */
export const weighted: RoutingStrategy = {
  name: 'weighted',
  async rank(candidates, _task, context) {
    const pool = [...candidates].sort(byName);
    const ranked: Ranking['ranked'] = [];
    while (pool.length > 0) {
      const total = pool.reduce((sum, s) => sum + s.weight, 0);
      let index = 0;
      if (total > 0) {
        let draw = context.random() * total;
        index = pool.findIndex((s) => {
          draw -= s.weight;
          return draw < 0;
        });
        // Rounding can leave the draw just short of zero: take the last service that has weight.
        if (index === -1) index = pool.findLastIndex((s) => s.weight > 0);
      }
      const [service] = pool.splice(index, 1) as [Service];
      ranked.push({ service, score: service.weight });
    }
    const total = candidates.reduce((sum, s) => sum + s.weight, 0);
    return {
      ranked,
      because: `weighted draw over ${candidates.length} services`,
      probabilities:
        total > 0
          ? Object.fromEntries(candidates.map((s) => [s.name, s.weight / total]))
          : { [(ranked[0] as Ranking['ranked'][number]).service.name]: 1 },
    };
  },
};

function uniform(services: readonly Service[]): Record<string, number> {
  return Object.fromEntries(services.map((s) => [s.name, 1 / services.length]));
}
