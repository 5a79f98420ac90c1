import { type ArtifactStore, resolveInputReferences } from '../core/artifacts.ts';
import { isExpired } from '../core/context-expiry.ts';
import type { TaskQueue } from '../core/task-message.ts';
import { TaskSubmission } from '../core/task-submission.ts';
import { ContextStore } from '../store/context-store.ts';
import { TaskStore } from '../store/task-store.ts';
import { artifactStore } from './artifacts.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';
import { taskQueue } from './task-queue.ts';

/** Task submission: the task record and the task queue, nothing else. */
export function buildTaskSubmission(
  deps: BaseDeps & {
    queue: TaskQueue;
    artifacts: ArtifactStore | undefined;
  },
): TaskSubmission {
  const { artifacts } = deps;
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  const contexts = new ContextStore(deps.doc, { table: deps.tables.memory });
  return new TaskSubmission({
    putTaskIfAbsent: (r) => tasks.putTaskIfAbsent(r),
    deleteTask: (id) => tasks.deleteTask(id),
    claimRequeue: (id, seen, at) => tasks.claimRequeue(id, seen, at),
    contextExists: async (id) => {
      const context = await contexts.getContext(id);
      return context !== undefined && !isExpired(context, deps.now());
    },
    queue: deps.queue,
    resolveReferences:
      artifacts && ((parameters) => resolveInputReferences(parameters, artifacts, 'parameters')),
    now: deps.now,
  });
}

export const taskSubmission = memo(() =>
  buildTaskSubmission({ ...baseDeps(), queue: taskQueue(), artifacts: artifactStore() }),
);
