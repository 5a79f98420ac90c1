import type { Command } from 'commander';
import { formatFields } from '../format.ts';
import { type ActionContext, action, addGlobalOptions, type CliState } from './common.ts';

/** Registers `memory summary`. */
export function registerMemoryCommands(program: Command, state: CliState): void {
  const memory = program.command('memory').description('what the orchestrator remembers');
  addGlobalOptions(
    memory.command('summary').description('recent results, task types with statistics, patterns learned'),
  ).action(
    action(state, async (ctx: ActionContext) => {
      const { body } = await ctx.client.request<{
        shortTermCount: number;
        longTermTypes: number;
        patternsLearned: number;
      }>('GET', '/memory/summary');
      ctx.result(body, () =>
        formatFields(
          [
            ['Recent results', body.shortTermCount],
            ['Task types with statistics', body.longTermTypes],
            ['Patterns learned', body.patternsLearned],
          ],
          ctx.style,
        ),
      );
    }),
  );
}
