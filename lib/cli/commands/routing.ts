import type { Command } from 'commander';
import type { RoutingStats } from '../../core/routing/router.ts';
import { formatTable, percent, type Style } from '../format.ts';
import { addReadCommand, type CliState } from './common.ts';

/** Total routes, then the share of each service and of each strategy, largest first. */
export function formatRoutingStats(stats: RoutingStats, style: Style): string {
  const distribution = (header: string, counts: Record<string, number>) => {
    const rows = Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
    if (rows.length === 0) return `No routes by ${header.toLowerCase()} yet.`;
    return formatTable(
      rows,
      [
        { header, value: ([name]) => name },
        { header: 'ROUTES', value: ([, n]) => n, align: 'right' },
        { header: 'SHARE', value: ([, n]) => percent(n, stats.totalRoutes), align: 'right' },
      ],
      style,
    );
  };
  return [
    `Total routes: ${stats.totalRoutes}`,
    distribution('SERVICE', stats.serviceDistribution),
    distribution('STRATEGY', stats.strategyDistribution),
  ].join('\n\n');
}

/** Registers `routing stats`. */
export function registerRoutingCommands(program: Command, state: CliState): void {
  const routing = program.command('routing').description('how tasks were routed');
  addReadCommand<RoutingStats>(routing, state, {
    name: 'stats',
    description: 'routes in total, per service and per strategy',
    path: '/routing/stats',
    show: formatRoutingStats,
  });
}
