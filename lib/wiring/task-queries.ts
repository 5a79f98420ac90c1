import { TaskQueries } from '../core/task-queries.ts';
import { TaskStore } from '../store/task-store.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** Reads of tasks: the task records, and the `byTime` index for lists. */
export function buildTaskQueries(deps: Omit<BaseDeps, 'random'>): TaskQueries {
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  return new TaskQueries({
    getTask: (id) => tasks.getTask(id),
    listTasks: (filter, window) => tasks.listTasks(filter, window),
    now: deps.now,
  });
}

export const taskQueries = memo(() => buildTaskQueries(baseDeps()));
