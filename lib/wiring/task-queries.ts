import { TaskQueries } from '../core/task-queries.ts';
import { TaskStore } from '../store/task-store.ts';
import { config, memo } from './context.ts';
import { documentClient } from './dynamo.ts';

/** Reads of tasks: the task records only. */
export const taskQueries = memo(() => {
  const tasks = new TaskStore(documentClient(), { table: config().tables.memory });
  return new TaskQueries({ getTask: (id) => tasks.getTask(id) });
});
