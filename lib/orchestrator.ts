import { Brain } from './core/brain.ts';
import { Memory } from './core/memory.ts';
import { ModuleManager } from './core/modules.ts';
import { TaskPipeline } from './core/pipeline/task-pipeline.ts';
import { Router, type RouterOptions } from './core/routing/router.ts';
import { SelfImprovement } from './core/self-improvement.ts';
import { DEFAULT_OUTLIER_POLICY } from './core/service.ts';
import { ServiceRegistry } from './core/service-registry.ts';
import { TaskSubmission } from './core/task-submission.ts';
import { StepRunner } from './core/workflow/step-runner.ts';
import { WorkflowService } from './core/workflow/workflow-service.ts';
import type { WorkflowEngine } from './engine/engine.ts';
import { HttpFactoryClient } from './factories/http-factory-client.ts';
import type { Stores } from './store/stores.ts';

/** Learned routing judges services mostly on the last 15 minutes (history counts as a small prior). */
export const RECENT_WINDOW_MS = 15 * 60_000;

/** The parts of the orchestrator, each a domain service wired to its storage. */
export interface Orchestrator {
  brain: Brain;
  router: Router;
  memory: Memory;
  selfImprovement: SelfImprovement;
  modules: ModuleManager;
  services: ServiceRegistry;
  tasks: TaskSubmission;
  pipeline: TaskPipeline;
  factories: HttpFactoryClient;
  workflows: WorkflowService;
  steps: StepRunner;
}

export interface OrchestratorOptions {
  stores: Stores;
  now?: () => Date;
  random?: () => number;
  router?: RouterOptions;
  multipliers?: Readonly<Record<string, number>>;
  /** Private hosts, IPs or CIDRs that factory endpoints may use (the local runtime's own factories). */
  allowedEndpoints?: readonly string[];
  /** Runs the task pipeline; without one, submitting a task fails with a clear error. */
  engine?: WorkflowEngine;
  pipelineArn?: string;
  factories?: HttpFactoryClient;
  /** Upper bound of one synchronous factory call (ms). */
  callTimeoutMs?: number;
  /** The workflow step handler compiled steps invoke (function name locally, ARN on AWS). */
  runStepFunction?: string;
  /** The API's base URL, where long-running factories post their callbacks. */
  callbackBaseUrl?: string;
  /** Prefix of state machines made at run time, and the workflows the stack deployed. */
  workflowPrefix?: string;
  deployedWorkflows?: Readonly<Record<string, string>>;
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
  const { tasks } = options.stores;
  const factories = options.factories ?? new HttpFactoryClient();

  const memory = new Memory({
    putResult: (r) => results.putResult(r),
    markCallLearned: (id) => results.markCallLearned(id),
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

  const brain = new Brain(
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
  );
  const router = new Router(
    {
      listServices,
      statsFor,
      random,
      now,
      nextTick: (key) => stats.nextTick(key),
      recentStatsFor: (type) => stats.recentStatsFor(type, new Date(now().getTime() - RECENT_WINDOW_MS)),
      recordRoute: (strategy, service) =>
        stats.incrementCounter('routes', {
          total: 1,
          [`strategy:${strategy}`]: 1,
          [`service:${service}`]: 1,
        }),
      routeCounters: () => stats.readCounter('routes'),
    },
    options.router,
  );
  const pipeline = new TaskPipeline({
    brain,
    router,
    memory,
    factories,
    getService: (name) => registry.getService(name),
    adjustLoad: (name, delta) => registry.adjustLoad(name, delta),
    recordCallOutcome: async (name, success) => {
      await registry.recordCallOutcome(name, success, DEFAULT_OUTLIER_POLICY, now());
    },
    updateTask: (id, patch) => tasks.updateTask(id, patch),
    appendAttempt: (id, attempt) => tasks.appendAttempt(id, attempt),
    callTimeoutMs: options.callTimeoutMs ?? 10_000,
    now,
  });
  const engine = options.engine;
  const noEngine = () => {
    throw new Error('no workflow engine is configured');
  };
  return {
    memory,
    brain,
    router,
    factories,
    pipeline,
    steps: new StepRunner({
      workflows: options.stores.workflows,
      pipeline,
      callbackBaseUrl: options.callbackBaseUrl,
      now,
    }),
    workflows: new WorkflowService({
      workflows: options.stores.workflows,
      engine: engine ?? {
        start: noEngine,
        describe: noEngine,
        stop: noEngine,
        deploy: noEngine,
        setAlias: noEngine,
        sendTaskSuccess: noEngine,
        sendTaskFailure: noEngine,
      },
      runStepFunction: options.runStepFunction ?? 'RunWorkflowStep',
      stateMachinePrefix: options.workflowPrefix,
      deployed: options.deployedWorkflows,
      capabilities: async () => {
        const byType: Record<string, string[]> = {};
        for (const service of await registry.listServices()) {
          if (!service.enabled || service.factoryType === undefined) continue;
          byType[service.factoryType] = [
            ...new Set([...(byType[service.factoryType] ?? []), ...service.capabilities]),
          ];
        }
        return byType;
      },
      now,
    }),
    tasks: new TaskSubmission({
      putTaskIfAbsent: (r) => tasks.putTaskIfAbsent(r),
      getTask: (id) => tasks.getTask(id),
      deleteTask: (id) => tasks.deleteTask(id),
      updateTask: (id, patch) => tasks.updateTask(id, patch),
      contextExists: async (id) => (await results.getContext(id)) !== undefined,
      startPipeline: async (taskId, input) => {
        if (!options.engine || !options.pipelineArn)
          throw new Error('no workflow engine is configured to run tasks');
        return options.engine.start(options.pipelineArn, taskId, input);
      },
      now,
    }),
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
    services: new ServiceRegistry(
      {
        putService: (s, v) => registry.putService(s, v),
        getService: (name) => registry.getService(name),
        listServices,
        setServiceHealth: (name, health, reason, at) => registry.setServiceHealth(name, health, reason, at),
        now,
      },
      { allowedEndpoints: options.allowedEndpoints },
    ),
  };
}
