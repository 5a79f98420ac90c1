import type { Command } from 'commander';
import type { Reports } from '../../wiring/reports.ts';
import { formatFields } from '../format.ts';
import { addReadCommand, type CliState } from './common.ts';

/** `GET /performance`: decisions made and task types learned. */
export type PerformanceSummary = Awaited<ReturnType<Reports['performanceSummary']>>;

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
