import { Replay } from '../core/routing/replay.ts';
import { TaskStore } from '../store/task-store.ts';
import { memo } from './context.ts';
import { baseDeps } from './dynamo.ts';
import { type Routing, routing } from './routing.ts';

/** Replay of routing policies on recorded decisions (see `Replay`). */
export function buildReplay(deps: ReturnType<typeof baseDeps> & { routing: Routing }): Replay {
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  return new Replay({
    finishedTasks: (window, limit) => tasks.finishedIn(window, limit),
    policyVersion: (version) => deps.routing.policies.get(version),
    services: () => deps.routing.registry.listServices(),
    router: deps.routing.router,
    now: deps.now,
  });
}

export const replay = memo(() => buildReplay({ ...baseDeps(), routing: routing() }));
