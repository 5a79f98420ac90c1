import type { Command } from 'commander';
import { formatFields } from '../format.ts';
import { type ActionContext, action, addGlobalOptions, type CliState } from './common.ts';

/** Registers `performance`, a command without subcommands. */
export function registerPerformanceCommand(program: Command, state: CliState): void {
  addGlobalOptions(
    program.command('performance').description('decisions made and task types learned'),
  ).action(
    action(state, async (ctx: ActionContext) => {
      const { body } = await ctx.client.request<{
        totalDecisions: number;
        taskTypesLearned: number;
        taskTypes: string[];
      }>('GET', '/performance');
      ctx.result(body, () =>
        formatFields(
          [
            ['Decisions', body.totalDecisions],
            ['Task types learned', body.taskTypesLearned],
            ['Task types', body.taskTypes.join(', ')],
          ],
          ctx.style,
        ),
      );
    }),
  );
}
