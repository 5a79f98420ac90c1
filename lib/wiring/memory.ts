import { Memory } from '../core/memory.ts';
import { recordFromResult, resultFromRecord, type TaskResult } from '../core/task-result.ts';
import { ContextStore } from '../store/context-store.ts';
import { StatsStore } from '../store/stats-store.ts';
import { TaskStore } from '../store/task-store.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/**
 * Memory: results are the finished task records, statistics and patterns come from the
 * statistics store, contexts from the memory table.
 */
export function buildMemory(deps: BaseDeps): Memory {
  const tasks = new TaskStore(deps.doc, { table: deps.tables.memory });
  const stats = new StatsStore(deps.doc, { table: deps.tables.patterns, random: deps.random, now: deps.now });
  const contexts = new ContextStore(deps.doc, { table: deps.tables.memory });
  const results = (records: Awaited<ReturnType<TaskStore['finishedByType']>>) =>
    records.flatMap((r) => resultFromRecord(r) ?? []);
  return new Memory({
    putResult: (result) => tasks.putFinishedIfAbsent(recordFromResult(result)),
    getResult: async (id) => {
      const record = await tasks.getTask(id);
      return record && resultFromRecord(record);
    },
    recentResults: async (limit) => {
      const perType = await Promise.all(
        (await stats.taskTypes()).map(async (type) => results(await tasks.finishedByType(type, limit))),
      );
      return perType
        .flat()
        .sort((a: TaskResult, b: TaskResult) => (a.completedAt < b.completedAt ? 1 : -1))
        .slice(0, limit);
    },
    resultsByType: async (type, limit) => results(await tasks.finishedByType(type, limit)),
    recordCall: (call) => stats.recordCalls([call]),
    statsFor: (type) => stats.statsFor(type),
    taskTypes: () => stats.taskTypes(),
    patternsFor: (type) => stats.patternsFor(type),
    createContext: (c) => contexts.createContext(c),
    getContext: (id) => contexts.getContext(id),
    updateContext: (c, v) => contexts.updateContext(c, v),
    deleteContext: (id) => contexts.deleteContext(id),
    now: deps.now,
  });
}

export const memory = memo(() => buildMemory(baseDeps()));
