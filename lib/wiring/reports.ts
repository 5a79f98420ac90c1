import {
  type PerformanceSummary,
  performanceSummary,
  type RoutingStats,
  routingStats,
} from '../core/routing/routing-stats.ts';
import { StatsStore } from '../store/stats-store.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** What the statistics say about routing and the brain's decisions so far. */
export interface Reports {
  routingStats(): Promise<RoutingStats>;
  performanceSummary(): Promise<PerformanceSummary>;
}

export function buildReports(deps: BaseDeps): Reports {
  const stats = new StatsStore(deps.doc, { table: deps.tables.patterns, random: deps.random, now: deps.now });
  return {
    routingStats: async () => routingStats(await stats.routeCounters()),
    async performanceSummary() {
      const [counters, taskTypes] = await Promise.all([stats.routeCounters(), stats.taskTypes()]);
      return performanceSummary(counters, taskTypes);
    },
  };
}

export const reports = memo(() => buildReports(baseDeps()));
