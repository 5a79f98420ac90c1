import type { ArtifactStore } from '../core/artifacts.ts';
import { TaskCallbacks } from '../core/task-callbacks.ts';
import type { TaskQueue } from '../core/task-message.ts';
import { publishFactoryCalls } from '../handler/outcome-metrics.ts';
import { StatsStore } from '../store/stats-store.ts';
import { TaskStore } from '../store/task-store.ts';
import { artifactStore, outputKeeper } from './artifacts.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';
import { taskQueue } from './task-queue.ts';

/** Callbacks of single tasks (see `TaskCallbacks`). */
export function buildTaskCallbacks(
  deps: BaseDeps & {
    queue: TaskQueue;
    artifacts: ArtifactStore | undefined;
  },
): TaskCallbacks {
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  const stats = new StatsStore(deps.doc, { table: deps.tables.patterns, random: deps.random, now: deps.now });
  return new TaskCallbacks({
    getTask: (id) => tasks.getTask(id),
    saveTask: (id, seq, progress) => tasks.saveTask(id, seq, progress),
    recordCalls: (calls) => {
      publishFactoryCalls(calls);
      return stats.recordCalls(calls);
    },
    queue: deps.queue,
    keepOutput: outputKeeper(deps.artifacts),
    now: deps.now,
  });
}

export const taskCallbacks = memo(() =>
  buildTaskCallbacks({ ...baseDeps(), queue: taskQueue(), artifacts: artifactStore() }),
);
