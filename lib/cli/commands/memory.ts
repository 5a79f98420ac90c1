import type { Command } from 'commander';
import type { MemorySummary } from '../../core/memory.ts';
import { formatFields } from '../format.ts';
import { addReadCommand, type CliState } from './common.ts';

/** Registers `memory summary`. */
export function registerMemoryCommands(program: Command, state: CliState): void {
  const memory = program.command('memory').description('what the orchestrator remembers');
  addReadCommand<MemorySummary>(memory, state, {
    name: 'summary',
    description: 'recent results, task types with statistics, patterns learned',
    path: '/memory/summary',
    show: (body, style) =>
      formatFields(
        [
          ['Recent results', body.shortTermCount],
          ['Task types with statistics', body.longTermTypes],
          ['Patterns learned', body.patternsLearned],
        ],
        style,
      ),
  });
}
