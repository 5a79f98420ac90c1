import { Brain } from './core/brain.ts';
import { Memory } from './core/memory.ts';
import { ModuleManager } from './core/modules.ts';
import { Router, type RouterOptions } from './core/routing/router.ts';
import { SelfImprovement } from './core/self-improvement.ts';
import { ServiceRegistry } from './core/service-registry.ts';
import type { Stores } from './store/stores.ts';

/** The parts of the orchestrator, each a domain service wired to its storage. */
export interface Orchestrator {
  brain: Brain;
  router: Router;
  memory: Memory;
  selfImprovement: SelfImprovement;
  modules: ModuleManager;
  services: ServiceRegistry;
}

export interface OrchestratorOptions {
  stores: Stores;
  now?: () => Date;
  random?: () => number;
  router?: RouterOptions;
  multipliers?: Readonly<Record<string, number>>;
}

/**
 * The composition root: binds the ports that `lib/core` declares to the DynamoDB repositories
 * of `lib/store`. Handlers, the local runtime and tests all build the orchestrator here.
 */
export function createOrchestrator(options: OrchestratorOptions): Orchestrator {
  const { memory: results, stats, suggestions, registry } = options.stores;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const listServices = () => registry.listServices();
  const statsFor = (taskType: string) => stats.statsFor(taskType);
  const taskTypes = () => stats.taskTypes();

  const memory = new Memory({
    putResult: (r) => results.putResult(r),
    getResult: (id) => results.getResult(id),
    recentResults: (limit) => results.recentResults(limit),
    resultsByType: (type, limit) => results.resultsByType(type, limit),
    recordOutcome: (r) => stats.recordOutcome(r),
    statsFor,
    taskTypes,
    patternsFor: (type) => stats.patternsFor(type),
    createContext: (c) => results.createContext(c),
    getContext: (id) => results.getContext(id),
    updateContext: (c, v) => results.updateContext(c, v),
    deleteContext: (id) => results.deleteContext(id),
    now,
  });

  return {
    memory,
    brain: new Brain(
      {
        listServices,
        statsFor,
        taskTypes,
        countDecision: () => stats.incrementCounter('decisions', { total: 1 }),
        decisionCount: async () => (await stats.readCounter('decisions')).total ?? 0,
        storeTaskResult: (r) => memory.storeTaskResult(r),
        now,
      },
      { multipliers: options.multipliers },
    ),
    router: new Router(
      {
        listServices,
        statsFor,
        random,
        now,
        nextTick: (key) => stats.nextTick(key),
        recordRoute: (strategy, service) =>
          stats.incrementCounter('routes', {
            total: 1,
            [`strategy:${strategy}`]: 1,
            [`service:${service}`]: 1,
          }),
        routeCounters: () => stats.readCounter('routes'),
      },
      options.router,
    ),
    selfImprovement: new SelfImprovement({
      windowStats: (from, to) => stats.windowStats(from, to),
      listServices,
      putSuggestionIfAbsent: (s) => suggestions.putSuggestionIfAbsent(s),
      getSuggestion: (id) => suggestions.getSuggestion(id),
      listSuggestions: () => suggestions.listSuggestions(),
      updateSuggestion: (s, v) => suggestions.updateSuggestion(s, v),
      now,
    }),
    modules: new ModuleManager({
      listModules: () => registry.listModules(),
      getModule: (name) => registry.getModule(name),
      putModule: (m, v) => registry.putModule(m, v),
      deleteModule: (name, v) => registry.deleteModule(name, v),
      pin: (name) => registry.pin(name),
      unpin: (name) => registry.unpin(name),
      markEnabled: (name) => registry.markEnabled(name),
      markDisabledIfUnpinned: (name) => registry.markDisabledIfUnpinned(name),
      setModuleHealth: (name, health) => registry.setModuleHealth(name, health, now()),
      now,
    }),
    services: new ServiceRegistry({
      putService: (s, v) => registry.putService(s, v),
      getService: (name) => registry.getService(name),
      listServices,
      setServiceHealth: (name, health, reason, at) => registry.setServiceHealth(name, health, reason, at),
      now,
    }),
  };
}
