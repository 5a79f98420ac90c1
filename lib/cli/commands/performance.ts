import type { Command } from 'commander';
import type { PerformanceSummary } from '../../core/routing/routing-stats.ts';
import { formatFields } from '../format.ts';
import { addReadCommand, type CliState } from './common.ts';

/** Registers `performance`, a command without subcommands. */
export function registerPerformanceCommand(program: Command, state: CliState): void {
  addReadCommand<PerformanceSummary>(program, state, {
    name: 'performance',
    description: 'decisions made and task types learned',
    path: '/performance',
    show: (body, style) =>
      formatFields(
        [
          ['Decisions', body.totalDecisions],
          ['Task types learned', body.taskTypesLearned],
          ['Task types', body.taskTypes.join(', ')],
        ],
        style,
      ),
  });
}
