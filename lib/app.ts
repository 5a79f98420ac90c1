import type { TableId } from './store/tables.ts';

/**
 * The app manifest: every function with what triggers it and what it may touch. The CDK stack
 * builds the cloud from it and the local runtime builds the local stack from it, so a route that
 * exists in one exists in the other.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The queues: `intake` takes submissions (from EventBridge and SQS), `tasks` is the worker's. */
export type QueueId = 'intake' | 'tasks';

/** Table access a function needs: `read`, or `write` (read and write). */
export type TableAccess = Partial<Record<TableId, 'read' | 'write'>>;

export interface FunctionSpec {
  /** Logical id: the CDK construct id and the local function name. */
  id: string;
  /** Handler file, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  tables: TableAccess;
  /** HTTP API route (API Gateway HTTP API, IAM authorisation unless `public`). */
  route?: { method: HttpMethod; path: string; public?: boolean };
  /** Consumes a queue (partial batch failures): the intake queue, or the task queue. */
  queue?: QueueId;
  /** EventBridge schedule expression. */
  schedule?: string;
  /** Sends messages to the task queue. */
  sendsTasks?: boolean;
  /** Creates, updates, starts, stops and answers workflow state machines. */
  managesWorkflows?: boolean;
  /** A step of compiled workflows. */
  workflowStep?: boolean;
  /** Calls factory endpoints over the network. */
  callsFactories?: boolean;
  timeoutSeconds?: number;
  /** Memory (and with it CPU); {@link DEFAULT_MEMORY_MB} unless set. */
  memoryMb?: number;
}

export const DEFAULT_MEMORY_MB = 512;
/**
 * Functions that spend most of an invocation waiting on a factory call: Lambda bills that wait by
 * memory, and their own work is a few milliseconds of CPU, so they run on half the default.
 */
const WAITS_ON_FACTORIES_MEMORY_MB = 256;

export const memoryOf = (spec: Pick<FunctionSpec, 'memoryMb'>): number => spec.memoryMb ?? DEFAULT_MEMORY_MB;

const api = (
  id: string,
  method: HttpMethod,
  path: string,
  file: string,
  description: string,
  tables: TableAccess,
  extra: Partial<FunctionSpec> = {},
): FunctionSpec => ({
  id,
  entry: `functions/api/${file}.ts`,
  description,
  tables,
  route: { method, path },
  ...extra,
});

export const FUNCTIONS: readonly FunctionSpec[] = [
  api(
    'SubmitTask',
    'POST',
    '/tasks',
    'submit-task',
    'Records a task and puts it on the task queue',
    { memory: 'write' },
    { sendsTasks: true },
  ),
  api('GetTask', 'GET', '/tasks/{taskId}', 'get-task', 'Reads a task and its outcome', { memory: 'read' }),
  api('ListServices', 'GET', '/services', 'list-services', 'Lists registered services', { registry: 'read' }),
  api('RegisterService', 'POST', '/services', 'register-service', 'Registers a factory service', {
    registry: 'write',
  }),
  api('UpdateService', 'PATCH', '/services/{name}', 'update-service', 'Updates a service', {
    registry: 'write',
  }),
  api(
    'SetServiceHealth',
    'PUT',
    '/services/{name}/health',
    'set-service-health',
    'Sets the health of a service',
    { registry: 'write' },
  ),
  api(
    'FactoryStatus',
    'GET',
    '/services/{name}/status',
    'factory-status',
    'Asks a factory for its status',
    { registry: 'read' },
    { callsFactories: true },
  ),
  api(
    'FactoryCapabilities',
    'GET',
    '/services/{name}/capabilities',
    'factory-capabilities',
    'Asks a factory for its capabilities',
    { registry: 'read' },
    { callsFactories: true },
  ),
  api('ListModules', 'GET', '/modules', 'list-modules', 'Lists modules', { registry: 'read' }),
  api('RegisterModule', 'POST', '/modules', 'register-module', 'Registers or updates a module', {
    registry: 'write',
  }),
  api('ModuleHealth', 'GET', '/modules/health', 'module-health', 'Module health summary', {
    registry: 'read',
  }),
  api('EnableModule', 'POST', '/modules/{name}/enable', 'enable-module', 'Enables a module', {
    registry: 'write',
  }),
  api('DisableModule', 'POST', '/modules/{name}/disable', 'disable-module', 'Disables a module', {
    registry: 'write',
  }),
  api('RoutingStats', 'GET', '/routing/stats', 'routing-stats', 'Routing statistics', { patterns: 'read' }),
  api('MemorySummary', 'GET', '/memory/summary', 'memory-summary', 'Memory summary', {
    memory: 'read',
    patterns: 'read',
  }),
  api('CreateContext', 'POST', '/contexts', 'create-context', 'Creates a named context', { memory: 'write' }),
  api('GetContext', 'GET', '/contexts/{contextId}', 'get-context', 'Reads a named context', {
    memory: 'read',
  }),
  api('ListSuggestions', 'GET', '/suggestions', 'list-suggestions', 'Lists improvement suggestions', {
    patterns: 'read',
  }),
  api('AcceptSuggestion', 'POST', '/suggestions/{id}/accept', 'accept-suggestion', 'Accepts a suggestion', {
    patterns: 'write',
  }),
  api('RejectSuggestion', 'POST', '/suggestions/{id}/reject', 'reject-suggestion', 'Rejects a suggestion', {
    patterns: 'write',
  }),
  api(
    'RecordImpact',
    'POST',
    '/suggestions/{id}/impact',
    'record-impact',
    'Records the measured impact of a suggestion',
    { patterns: 'write' },
  ),
  api('ImprovementReport', 'GET', '/improvement/report', 'improvement-report', 'Improvement report', {
    patterns: 'read',
  }),
  api('PerformanceSummary', 'GET', '/performance', 'performance-summary', 'Brain performance summary', {
    patterns: 'read',
  }),

  api(
    'RegisterWorkflow',
    'POST',
    '/workflows',
    'register-workflow',
    'Registers a workflow template as a new version',
    { registry: 'write' },
    { managesWorkflows: true, timeoutSeconds: 30 },
  ),
  api('ListWorkflows', 'GET', '/workflows', 'list-workflows', 'Lists workflows', { registry: 'read' }),
  api('GetWorkflow', 'GET', '/workflows/{workflowId}', 'get-workflow', 'Reads a workflow and its versions', {
    registry: 'read',
  }),
  api(
    'RollbackWorkflow',
    'POST',
    '/workflows/{workflowId}/rollback',
    'rollback-workflow',
    'Points a workflow at a published version',
    { registry: 'write' },
    { managesWorkflows: true },
  ),
  api(
    'StartExecution',
    'POST',
    '/workflows/{workflowId}/executions',
    'start-execution',
    'Starts a workflow run',
    { registry: 'read', memory: 'write' },
    { managesWorkflows: true },
  ),
  api(
    'GetExecution',
    'GET',
    '/executions/{executionId}',
    'get-execution',
    'Reads a workflow run',
    { memory: 'read' },
    { managesWorkflows: true },
  ),
  api(
    'PauseExecution',
    'POST',
    '/executions/{executionId}/pause',
    'pause-execution',
    'Pauses a workflow run',
    { memory: 'write' },
    { managesWorkflows: true },
  ),
  api(
    'ResumeExecution',
    'POST',
    '/executions/{executionId}/resume',
    'resume-execution',
    'Resumes a workflow run',
    { memory: 'write' },
    { managesWorkflows: true },
  ),
  api(
    'CancelExecution',
    'POST',
    '/executions/{executionId}/cancel',
    'cancel-execution',
    'Cancels a workflow run',
    { memory: 'write' },
    { managesWorkflows: true },
  ),
  {
    id: 'Callback',
    entry: 'functions/api/callback.ts',
    description: 'Receives a long-running factory callback (tasks and workflow steps)',
    tables: { memory: 'write', patterns: 'write' },
    route: { method: 'POST', path: '/callbacks/{token}', public: true },
    managesWorkflows: true,
    sendsTasks: true,
  },
  {
    id: 'TaskWorker',
    entry: 'functions/tasks/worker.ts',
    description: 'Takes each task one step further: decide, route, call the factory, save',
    tables: { memory: 'write', patterns: 'write', registry: 'write' },
    queue: 'tasks',
    sendsTasks: true,
    callsFactories: true,
    timeoutSeconds: 30,
    memoryMb: WAITS_ON_FACTORIES_MEMORY_MB,
  },
  {
    id: 'RunWorkflowStep',
    entry: 'functions/workflow/run-step.ts',
    description: 'Workflow: one step, decided, routed and called like a task',
    tables: { memory: 'write', patterns: 'write', registry: 'write' },
    workflowStep: true,
    callsFactories: true,
    timeoutSeconds: 30,
    memoryMb: WAITS_ON_FACTORIES_MEMORY_MB,
  },
  {
    id: 'TaskIntake',
    entry: 'functions/intake/task-queue.ts',
    description: 'Submits tasks from the intake queue',
    tables: { memory: 'write' },
    queue: 'intake',
    sendsTasks: true,
    timeoutSeconds: 60,
  },
  {
    id: 'ProbeHealth',
    entry: 'functions/scheduled/probe-health.ts',
    description: 'Probes the health of every service',
    tables: { registry: 'write' },
    schedule: 'rate(5 minutes)',
    callsFactories: true,
    timeoutSeconds: 60,
  },
  {
    id: 'RollUpStatistics',
    entry: 'functions/scheduled/roll-up-statistics.ts',
    description: 'Rolls the per-minute call counters up into all-time and hourly statistics',
    tables: { patterns: 'write', memory: 'read' },
    schedule: 'rate(5 minutes)',
    timeoutSeconds: 120,
  },
  {
    id: 'AnalyzePerformance',
    entry: 'functions/scheduled/analyze-performance.ts',
    description: 'Daily self-improvement analysis (suggestions only)',
    tables: { patterns: 'write', registry: 'read' },
    schedule: 'cron(0 3 * * ? *)',
    timeoutSeconds: 300,
  },
];

/** The EventBridge bus the orchestrator listens on, and the event that submits a task. */
export const EVENT_BUS_NAME = 'vobee';
export const TASK_REQUESTED = { source: 'vobee.tasks', detailType: 'TaskRequested' } as const;
