import { StatsStore } from '../store/stats-store.ts';
import { TaskStore } from '../store/task-store.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** Finished tasks a roll-up reads per type and run, at most. */
const TASKS_PER_RUN = 1_000;

/**
 * The statistics roll-up, run on a schedule: for every task type, the closed minutes go into the
 * all-time and hourly counters, and the finished tasks into the parameter patterns.
 */
export function buildRollUp(
  deps: BaseDeps,
): () => Promise<Record<string, { minutes: number; services: number; tasks: number }>> {
  const stats = new StatsStore(deps.doc, { table: deps.tables.patterns, random: deps.random, now: deps.now });
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  return async () => {
    const summary: Record<string, { minutes: number; services: number; tasks: number }> = {};
    for (const type of await stats.taskTypes()) {
      const counters = await stats.rollUp(type);
      // Tasks that finished over a minute ago only: the index is eventually consistent, and a task
      // that showed up late behind the position would never be counted.
      const before = new Date(deps.now().getTime() - 60_000).toISOString();
      const rolled = await stats.rollUpParameters(type, (after) =>
        tasks.finishedBetween(type, after, before, TASKS_PER_RUN),
      );
      summary[type] = { ...counters, tasks: rolled };
    }
    return summary;
  };
}

export const rollUp = memo(() => buildRollUp(baseDeps()));
