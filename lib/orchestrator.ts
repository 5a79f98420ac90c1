import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArtifactStore } from './core/artifacts.ts';
import type { Brain } from './core/brain.ts';
import type { Memory } from './core/memory.ts';
import type { ModuleManager } from './core/modules.ts';
import type { Router, RouterOptions } from './core/routing/router.ts';
import type { SelfImprovement } from './core/self-improvement.ts';
import type { ServiceRegistry } from './core/service-registry.ts';
import type { TaskCallbacks } from './core/task-callbacks.ts';
import type { TaskMessage, TaskQueue } from './core/task-message.ts';
import type { TaskQueries } from './core/task-queries.ts';
import type { TaskSubmission } from './core/task-submission.ts';
import type { TaskWorker } from './core/task-worker.ts';
import type { StepRunner } from './core/workflow/step-runner.ts';
import type { WorkflowEngine } from './core/workflow/workflow-ports.ts';
import type { DeployedWorkflow, WorkflowService } from './core/workflow/workflow-service.ts';
import { HttpFactoryClient } from './factories/http-factory-client.ts';
import type { TableNames } from './store/tables.ts';
import { buildSelfImprovement } from './wiring/improvement.ts';
import { buildMemory } from './wiring/memory.ts';
import { buildModuleManager } from './wiring/modules.ts';
import { buildReports, type Reports } from './wiring/reports.ts';
import { buildRollUp } from './wiring/roll-up.ts';
import { buildRouting, type Routing } from './wiring/routing.ts';
import { buildServiceRegistry } from './wiring/services.ts';
import { buildStepRunner } from './wiring/step-runner.ts';
import { buildTaskCallbacks } from './wiring/task-callbacks.ts';
import { buildTaskQueries } from './wiring/task-queries.ts';
import { buildTaskSubmission } from './wiring/task-submission.ts';
import { buildTaskWorker } from './wiring/task-worker.ts';
import { buildWorkflowService } from './wiring/workflows.ts';

/** Every part of the orchestrator, each a domain service wired to its storage. */
export interface Orchestrator {
  brain: Brain;
  router: Router;
  routing: Routing;
  memory: Memory;
  selfImprovement: SelfImprovement;
  modules: ModuleManager;
  services: ServiceRegistry;
  tasks: TaskSubmission;
  taskQueries: TaskQueries;
  worker: TaskWorker;
  callbacks: TaskCallbacks;
  factories: HttpFactoryClient;
  workflows: WorkflowService;
  steps: StepRunner;
  reports: Reports;
  /** Where outputs above the inline limit are kept (none: such outputs fail). */
  artifacts: ArtifactStore | undefined;
  rollUp: () => Promise<Record<string, { minutes: number; services: number; tasks: number }>>;
}

export interface OrchestratorOptions {
  doc: DynamoDBDocumentClient;
  tables: TableNames;
  now?: () => Date;
  random?: () => number;
  router?: RouterOptions;
  /** Private hosts, IPs or CIDRs that factory endpoints may use (the local runtime's own factories). */
  allowedEndpoints?: readonly string[];
  /** The task queue; without one, submitting a task fails with a clear error. */
  queue?: TaskQueue;
  /** Runs workflows; without one, workflow operations fail with a clear error. */
  engine?: WorkflowEngine;
  factories?: HttpFactoryClient;
  /** Where outputs above the inline limit are kept; without one, such outputs fail. */
  artifacts?: ArtifactStore;
  /** Upper bound of one synchronous factory call (ms). */
  callTimeoutMs?: number;
  /** How long routing reuses a read of the registry or of the statistics (ms, default 5,000). */
  cacheMs?: number;
  /** The workflow step handler compiled steps invoke (function name locally, ARN on AWS). */
  runStepFunction?: string;
  /** The API's base URL, where long-running factories post their callbacks. */
  callbackBaseUrl?: string;
  /** Prefix of state machines made at run time, and the workflows the stack deployed. */
  workflowPrefix?: string;
  deployedWorkflows?: Readonly<Record<string, DeployedWorkflow>>;
}

/**
 * The whole orchestrator on explicit parts, for the local runtime and the tests: the same
 * builders the Lambda handlers use one by one (`lib/wiring`), all on one database client.
 */
export function createOrchestrator(options: OrchestratorOptions): Orchestrator {
  const { doc, tables } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const factories = options.factories ?? new HttpFactoryClient({ allowed: options.allowedEndpoints });
  const queue: TaskQueue = options.queue ?? {
    send: async (message: TaskMessage) => {
      throw new Error(`no task queue is configured: task '${message.taskId}' cannot be queued`);
    },
  };
  const engine: WorkflowEngine = options.engine ?? noEngine();
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const base = { doc, tables, now, random };
  const memory = buildMemory(base);
  const routing = buildRouting({
    ...base,
    router: options.router,
    cacheMs: options.cacheMs ?? 5_000,
    storeTaskResult: (result) => memory.storeTaskResult(result),
  });
  return {
    brain: routing.brain,
    router: routing.router,
    routing,
    memory,
    factories,
    selfImprovement: buildSelfImprovement(base),
    modules: buildModuleManager(base),
    services: buildServiceRegistry({ ...base, allowedEndpoints: options.allowedEndpoints ?? [] }),
    tasks: buildTaskSubmission({ ...base, queue, artifacts: options.artifacts }),
    taskQueries: buildTaskQueries(base),
    worker: buildTaskWorker({
      ...base,
      routing,
      queue,
      factories,
      artifacts: options.artifacts,
      callTimeoutMs,
      callbackBaseUrl: options.callbackBaseUrl,
    }),
    callbacks: buildTaskCallbacks({ ...base, queue, artifacts: options.artifacts }),
    workflows: buildWorkflowService({
      ...base,
      engine,
      config: {
        runStepFunction: options.runStepFunction,
        workflowPrefix: options.workflowPrefix ?? 'vobee-wf',
        deployedWorkflows: { ...options.deployedWorkflows },
      },
      artifacts: options.artifacts,
    }),
    steps: buildStepRunner({
      ...base,
      engine,
      routing,
      factories,
      artifacts: options.artifacts,
      callTimeoutMs,
      callbackBaseUrl: options.callbackBaseUrl,
    }),
    reports: buildReports(base),
    artifacts: options.artifacts,
    rollUp: buildRollUp(base),
  };
}

function noEngine(): WorkflowEngine {
  const fail = async (): Promise<never> => {
    throw new Error('no workflow engine is configured');
  };
  return {
    start: fail,
    describe: fail,
    stop: fail,
    deploy: fail,
    setAlias: fail,
    sendTaskSuccess: fail,
    sendTaskFailure: fail,
  };
}
