import type { ArtifactStore } from '../core/artifacts.ts';
import { isExpired } from '../core/context-expiry.ts';
import { NotFoundError } from '../core/errors.ts';
import type { FactoryCaller } from '../core/factory-call.ts';
import type { TaskQueue } from '../core/task-message.ts';
import { TaskWorker } from '../core/task-worker.ts';
import { ContextStore } from '../store/context-store.ts';
import { TaskStore } from '../store/task-store.ts';
import { artifactStore, withArtifacts } from './artifacts.ts';
import { type BaseDeps, config, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';
import { factoryClient } from './factories.ts';
import { callPorts, type Routing, routing } from './routing.ts';
import { taskQueue } from './task-queue.ts';

export interface WorkerDeps extends BaseDeps {
  routing: Routing;
  queue: TaskQueue;
  factories: FactoryCaller;
  artifacts: ArtifactStore | undefined;
  callTimeoutMs: number;
  callbackBaseUrl: string | undefined;
}

/** The worker of the single-task path (see `TaskWorker`). */
export function buildTaskWorker(deps: WorkerDeps): TaskWorker {
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  const contexts = new ContextStore(deps.doc, { table: deps.tables.memory });
  return new TaskWorker({
    ...callPorts(deps.routing),
    factories: withArtifacts(deps.factories, deps.artifacts),
    context: async (id) => {
      const context = await contexts.getContext(id);
      if (!context || isExpired(context, deps.now())) throw new NotFoundError('context', id);
      return context.data;
    },
    callTimeoutMs: deps.callTimeoutMs,
    now: deps.now,
    random: deps.random,
    getTask: (id) => tasks.getTask(id),
    saveTask: (id, seq, progress) => tasks.saveTask(id, seq, progress),
    queue: deps.queue,
    callbackBaseUrl: deps.callbackBaseUrl,
  });
}

export const taskWorker = memo(() =>
  buildTaskWorker({
    ...baseDeps(),
    routing: routing(),
    queue: taskQueue(),
    factories: factoryClient(),
    artifacts: artifactStore(),
    callTimeoutMs: config().factoryCallTimeoutMs,
    callbackBaseUrl: config().callbackUrl,
  }),
);
