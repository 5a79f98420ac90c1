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
  /** Told of every end of a workflow execution (Step Functions' status change events on EventBridge). */
  runEnds?: boolean;
  /** Sends messages to the task queue. */
  sendsTasks?: boolean;
  /** Creates, updates, starts, stops and answers workflow state machines. */
  managesWorkflows?: boolean;
  /** A step of compiled workflows. */
  workflowStep?: boolean;
  /** Calls factory endpoints over the network. */
  callsFactories?: boolean;
  /** Reads artifacts (and presigns downloads), or also stores them (and presigns uploads). */
  artifacts?: 'read' | 'write';
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

/** What an HTTP route's function declares besides its id and route. */
type ApiSpec = Omit<FunctionSpec, 'id' | 'entry' | 'route'> & { public?: boolean };

/**
 * An HTTP API function: `api('SubmitTask', 'POST /tasks', {...})`. Its handler is the file named
 * after the id in `functions/api/` (`SubmitTask` -> `submit-task.ts`).
 */
function api(id: string, route: `${HttpMethod} /${string}`, spec: ApiSpec): FunctionSpec {
  const [method, path] = route.split(' ') as [HttpMethod, string];
  const { public: isPublic, ...rest } = spec;
  return {
    id,
    entry: `functions/api/${kebabCase(id)}.ts`,
    route: { method, path, ...(isPublic ? { public: true } : {}) },
    ...rest,
  };
}

function kebabCase(id: string): string {
  return id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  api('SubmitTask', 'POST /tasks', {
    description: 'Records a task and puts it on the task queue',
    tables: { memory: 'write' },
    sendsTasks: true,
    artifacts: 'write',
  }),
  api('ListTasks', 'GET /tasks', {
    description: 'Lists tasks, newest first, by status, type and time',
    tables: { memory: 'read' },
  }),
  api('GetTask', 'GET /tasks/{taskId}', {
    description: 'Reads a task and its outcome',
    tables: { memory: 'read' },
  }),
  api('GetArtifact', 'GET /artifacts/{artifactId}', {
    description: 'Redirects to a short-lived download URL of an artifact',
    tables: {},
    artifacts: 'read',
  }),
  api('ListServices', 'GET /services', {
    description: 'Lists registered services',
    tables: { registry: 'read' },
  }),
  api('RegisterService', 'POST /services', {
    description: 'Registers a factory service',
    tables: { registry: 'write' },
  }),
  api('UpdateService', 'PATCH /services/{name}', {
    description: 'Updates a service',
    tables: { registry: 'write' },
  }),
  api('SetServiceHealth', 'PUT /services/{name}/health', {
    description: 'Sets the health of a service',
    tables: { registry: 'write' },
  }),
  api('ServiceStats', 'GET /services/{name}/stats', {
    description: "A service's calls per minute or hour: successes, failures, timeouts, p50 and p95",
    tables: { registry: 'read', patterns: 'read' },
  }),
  api('FactoryStatus', 'GET /services/{name}/status', {
    description: 'Asks a factory for its status',
    tables: { registry: 'read' },
    callsFactories: true,
  }),
  api('FactoryCapabilities', 'GET /services/{name}/capabilities', {
    description: 'Asks a factory for its capabilities',
    tables: { registry: 'read' },
    callsFactories: true,
  }),
  api('ListModules', 'GET /modules', { description: 'Lists modules', tables: { registry: 'read' } }),
  api('RegisterModule', 'POST /modules', {
    description: 'Registers or updates a module',
    tables: { registry: 'write' },
  }),
  api('ModuleHealth', 'GET /modules/health', {
    description: 'Module health summary',
    tables: { registry: 'read' },
  }),
  api('EnableModule', 'POST /modules/{name}/enable', {
    description: 'Enables a module',
    tables: { registry: 'write' },
  }),
  api('DisableModule', 'POST /modules/{name}/disable', {
    description: 'Disables a module',
    tables: { registry: 'write' },
  }),
  api('RoutingStats', 'GET /routing/stats', {
    description: 'Routing statistics',
    tables: { patterns: 'read' },
  }),
  api('GetRoutingPolicy', 'GET /routing/policy', {
    description: 'Reads the routing policy in force',
    tables: { registry: 'read' },
  }),
  api('SetRoutingPolicy', 'PUT /routing/policy', {
    description: 'Stores a routing policy as a new version, a draft unless activated',
    tables: { registry: 'write' },
  }),
  api('ListRoutingPolicies', 'GET /routing/policies', {
    description: 'Lists routing policy versions, who made each and why',
    tables: { registry: 'read' },
  }),
  api('GetRoutingPolicyVersion', 'GET /routing/policies/{version}', {
    description: 'Reads one routing policy version',
    tables: { registry: 'read' },
  }),
  api('ActivateRoutingPolicy', 'POST /routing/policies/{version}/activate', {
    description: 'Switches routing to a policy version (an older one rolls back)',
    tables: { registry: 'write' },
  }),
  api('ListDecisions', 'GET /decisions', {
    description: 'Lists routing decisions of tasks and workflow steps, with why each service was chosen',
    tables: { memory: 'read' },
  }),
  api('ReplayRouting', 'POST /routing/replay', {
    description: 'Estimates what a routing policy would have achieved on recorded decisions',
    tables: { memory: 'read', registry: 'read', patterns: 'read' },
  }),
  api('RelevantMemories', 'GET /memory/relevant', {
    description: 'Recent results of a task type: what a new task of that type can learn from',
    tables: { memory: 'read' },
  }),
  api('TaskTypePatterns', 'GET /patterns/{type}', {
    description: 'Statistics per service and learned success patterns of a task type',
    tables: { patterns: 'read' },
  }),
  api('MemorySummary', 'GET /memory/summary', {
    description: 'Memory summary',
    tables: { memory: 'read', patterns: 'read' },
  }),
  api('CreateContext', 'POST /contexts', {
    description: 'Creates a named context',
    tables: { memory: 'write' },
  }),
  api('GetContext', 'GET /contexts/{contextId}', {
    description: 'Reads a named context',
    tables: { memory: 'read' },
  }),
  api('ListSuggestions', 'GET /suggestions', {
    description: 'Lists improvement suggestions',
    tables: { patterns: 'read' },
  }),
  api('AcceptSuggestion', 'POST /suggestions/{id}/accept', {
    description: 'Accepts a suggestion',
    tables: { patterns: 'write', registry: 'write' },
  }),
  api('RejectSuggestion', 'POST /suggestions/{id}/reject', {
    description: 'Rejects a suggestion',
    tables: { patterns: 'write' },
  }),
  api('RecordImpact', 'POST /suggestions/{id}/impact', {
    description: 'Records the measured impact of a suggestion',
    tables: { patterns: 'write' },
  }),
  api('ImprovementReport', 'GET /improvement/report', {
    description: 'Improvement report',
    tables: { patterns: 'read' },
  }),
  api('PerformanceSummary', 'GET /performance', {
    description: 'Brain performance summary',
    tables: { patterns: 'read' },
  }),
  api('RegisterWorkflow', 'POST /workflows', {
    description: 'Registers a workflow template as a new version',
    tables: { registry: 'write' },
    managesWorkflows: true,
    timeoutSeconds: 30,
  }),
  api('ListWorkflows', 'GET /workflows', { description: 'Lists workflows', tables: { registry: 'read' } }),
  api('GetWorkflow', 'GET /workflows/{workflowId}', {
    description: 'Reads a workflow and its versions',
    tables: { registry: 'read' },
  }),
  api('RollbackWorkflow', 'POST /workflows/{workflowId}/rollback', {
    description: 'Points a workflow at a published version',
    tables: { registry: 'write' },
    managesWorkflows: true,
  }),
  api('StartExecution', 'POST /workflows/{workflowId}/executions', {
    description: 'Starts a workflow run',
    tables: { registry: 'read', memory: 'write', patterns: 'read' },
    managesWorkflows: true,
  }),
  api('ListExecutions', 'GET /executions', {
    description: 'Lists workflow runs, newest first, by status, workflow and time',
    tables: { memory: 'read' },
  }),
  api('GetExecution', 'GET /executions/{executionId}', {
    description: 'Reads a workflow run',
    tables: { memory: 'read' },
    managesWorkflows: true,
  }),
  api('PauseExecution', 'POST /executions/{executionId}/pause', {
    description: 'Pauses a workflow run',
    tables: { memory: 'write' },
    managesWorkflows: true,
  }),
  api('ResumeExecution', 'POST /executions/{executionId}/resume', {
    description: 'Resumes a workflow run',
    tables: { memory: 'write' },
    managesWorkflows: true,
  }),
  api('RedriveExecution', 'POST /executions/{executionId}/redrive', {
    description: 'Runs a failed or timed-out workflow run again from the steps that did not succeed',
    tables: { memory: 'write', registry: 'read' },
    managesWorkflows: true,
  }),
  api('ChangeExecution', 'POST /executions/{executionId}/changes', {
    description: 'Changes a paused workflow run: adds steps, replaces or skips steps not yet started',
    tables: { memory: 'write', registry: 'read' },
    managesWorkflows: true,
  }),
  api('CancelExecution', 'POST /executions/{executionId}/cancel', {
    description: 'Cancels a workflow run',
    tables: { memory: 'write' },
    managesWorkflows: true,
  }),
  api('Callback', 'POST /callbacks/{token}', {
    description: 'Receives a long-running factory callback (tasks and workflow steps)',
    tables: { memory: 'write', patterns: 'write' },
    managesWorkflows: true,
    sendsTasks: true,
    artifacts: 'write',
    public: true,
  }),
  api('OpenApiDocument', 'GET /openapi.json', {
    description: 'The OpenAPI 3.1 document of this API',
    tables: {},
  }),
  {
    id: 'TaskWorker',
    entry: 'functions/tasks/worker.ts',
    description: 'Takes each task one step further: decide, route, call the factory, save',
    tables: { memory: 'write', patterns: 'write', registry: 'write' },
    queue: 'tasks',
    sendsTasks: true,
    callsFactories: true,
    artifacts: 'write',
    timeoutSeconds: 30,
    memoryMb: WAITS_ON_FACTORIES_MEMORY_MB,
  },
  {
    id: 'RecordRunEnd',
    entry: 'functions/workflow/record-run-end.ts',
    description: 'Workflow: keeps how each run ended, from Step Functions events',
    tables: { memory: 'write' },
    runEnds: true,
  },
  {
    id: 'RunWorkflowStep',
    entry: 'functions/workflow/run-step.ts',
    description: 'Workflow: one step, decided, routed and called like a task',
    tables: { memory: 'write', patterns: 'write', registry: 'write' },
    workflowStep: true,
    callsFactories: true,
    artifacts: 'write',
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
    artifacts: 'write',
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
