/** How many tasks were routed, to which services and by which strategies. */
export interface RoutingStats {
  totalRoutes: number;
  serviceDistribution: Record<string, number>;
  strategyDistribution: Record<string, number>;
}

/** Routing statistics from the route counters: `total`, `service:<name>`, `strategy:<name>`. */
export function routingStats(counters: Readonly<Record<string, number>>): RoutingStats {
  const pick = (prefix: string) =>
    Object.fromEntries(
      Object.entries(counters)
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, n]) => [key.slice(prefix.length), n]),
    );
  return {
    totalRoutes: counters.total ?? 0,
    serviceDistribution: pick('service:'),
    strategyDistribution: pick('strategy:'),
  };
}

/** The brain's decisions so far and the task types it has learned. */
export interface PerformanceSummary {
  totalDecisions: number;
  taskTypesLearned: number;
  taskTypes: string[];
}

export function performanceSummary(
  counters: Readonly<Record<string, number>>,
  taskTypes: readonly string[],
): PerformanceSummary {
  return {
    totalDecisions: counters.total ?? 0,
    taskTypesLearned: taskTypes.length,
    taskTypes: [...taskTypes],
  };
}
