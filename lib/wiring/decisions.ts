import { MAX_LIST_LIMIT } from '../core/list-window.ts';
import { DecisionLog } from '../core/routing/decision-log.ts';
import { TaskStore } from '../store/task-store.ts';
import { WorkflowStore } from '../store/workflow-store.ts';
import type { BaseDeps } from './context.ts';
import { memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** The explanation records of routing, read from tasks and workflow steps (see `DecisionLog`). */
export function buildDecisionLog(deps: BaseDeps): DecisionLog {
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  const runs = new WorkflowStore(deps.doc, {
    registryTable: deps.tables.registry,
    memoryTable: deps.tables.memory,
  });
  return new DecisionLog({
    tasks: (window, limit, type) =>
      tasks.finishedIn(window, limit, (entry) => type === undefined || entry.taskType === type),
    runs: async (window, limit) =>
      (await runs.listExecutions({ ...window, limit: Math.min(limit, MAX_LIST_LIMIT) }, () => true)).runs,
    steps: (executionName) => runs.listSteps(executionName),
    now: deps.now,
  });
}

export const decisionLog = memo(() => buildDecisionLog(baseDeps()));
