/**
 * The parts of the HTTP API's answers the console reads. The console is a client of the API like
 * any other, so it states the contract it relies on here instead of importing the server's code.
 */

export type TaskStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
export type RunStatus = 'PENDING' | 'RUNNING' | 'PAUSED' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED';
export type StepStatus = 'WAITING' | 'RUNNING' | 'CALLBACK' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
export type Health = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

export const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'];
export const RUN_STATUSES: readonly RunStatus[] = [
  'PENDING',
  'RUNNING',
  'PAUSED',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'CANCELLED',
];
export const RUN_ENDED: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

export interface TaskSummary {
  taskId: string;
  type: string;
  status: TaskStatus;
  priority?: string;
  createdAt: string;
  updatedAt?: string;
  completedAt?: string;
  service?: string;
  error?: { kind: string; message: string };
}

export interface RunSummary {
  executionId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  startedAt: string;
  stoppedAt?: string;
  error?: { error?: string; cause?: string };
}

export interface CallError {
  kind: string;
  message: string;
  status?: number;
}

export interface CallAttempt {
  service: string;
  attempt: number;
  outcome: 'succeeded' | 'failed' | 'waiting';
  latencyMs: number;
  error?: CallError;
  at: string;
}

export interface Decision {
  priority: string;
  priorityScore: number;
  selectedService?: string;
  confidence: number;
  resources: { cpu: number; memoryMb: number; timeoutSeconds: number };
  alternatives: Array<{ service: string; expectedUtility: number; count: number; successes: number }>;
  reason: string;
}

export interface RouteDecision {
  strategy: string;
  primary: string;
  fallbacks: string[];
  tried: string[];
  retrySchedule: number[];
  candidates: Array<{ name: string; health: Health; load: number; score?: number }>;
  rule?: { id: string; name: string; priority: number };
  explored: boolean;
  reason: string;
  decidedAt: string;
}

export interface TaskRecord {
  taskId: string;
  task: {
    type: string;
    action?: string;
    priority: string;
    keywords?: string[];
    parameters?: Record<string, unknown>;
  };
  strategy?: string;
  status: TaskStatus;
  decision?: Decision;
  route?: RouteDecision;
  attempts: CallAttempt[];
  waiting?: { for: string; until: string; service?: string };
  output?: unknown;
  error?: { kind: string; message: string };
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
}

export interface StepRecord {
  stepId: string;
  status: StepStatus;
  attempts: number;
  service?: string;
  calls?: CallAttempt[];
  startedAt?: string;
  endedAt?: string;
  output?: unknown;
  error?: string;
  items?: number;
}

export interface ExecutionView {
  executionId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  startedAt: string;
  stoppedAt?: string;
  currentSteps: string[];
  steps: StepRecord[];
  error?: { error?: string; cause?: string };
  changes?: Array<{ changedBy: string; at?: string; reason?: string }>;
}

export interface TemplateStep {
  step_id: string;
  name?: string;
  factory_type?: string;
  action?: string;
  dependencies?: string[];
  any_of?: string[][];
  on_failure?: string;
}

export interface WorkflowHead {
  workflowId: string;
  name: string;
  description: string;
  currentVersion: number;
  latestVersion: number;
  engine?: string;
  timeoutSeconds?: number;
  updatedAt: string;
}

export interface WorkflowDetail extends WorkflowHead {
  template?: {
    steps: TemplateStep[];
    inputs?: Record<string, { type: string; description?: string; default?: unknown }>;
  };
  versions: Array<{ version: number; states: number; strategy: string; createdAt: string; steps?: number }>;
}

export interface Service {
  name: string;
  endpoint: string;
  factoryType?: string;
  capabilities: string[];
  weight: number;
  enabled: boolean;
  health: Health;
  healthReason?: string;
  cooldownUntil?: string;
  load: number;
  updatedAt: string;
}

export interface StatsPoint {
  at: string;
  calls: number;
  successes: number;
  failures: number;
  timeouts: number;
  p50Ms?: number | null;
  p95Ms?: number | null;
}

export interface ServiceStats {
  service: string;
  granularity: 'minute' | 'hour';
  points: StatsPoint[];
}

export interface Module {
  name: string;
  category: string;
  description?: string;
  dependencies: string[];
  enabled: boolean;
  health: Health;
  pins?: number;
}

export interface ModuleHealth {
  totalModules: number;
  enabled: number;
  disabled: number;
  healthy: number;
  degraded: number;
  unhealthy: number;
}

export interface MetricImpact {
  before: number;
  after: number;
  improvement: number;
  improved: boolean;
}

export type SuggestionStatus = 'pending' | 'accepted' | 'rejected' | 'implemented';
export const SUGGESTION_STATUSES: readonly SuggestionStatus[] = [
  'pending',
  'accepted',
  'rejected',
  'implemented',
];

export interface Suggestion {
  id: string;
  area: string;
  priority: string;
  title: string;
  subject: { taskType?: string; service?: string };
  evidence: Record<string, number | string>;
  proposedAction: { type: string; description: string; parameters: Record<string, unknown> };
  status: SuggestionStatus;
  createdAt: string;
  windowHours: number;
  decidedAt?: string;
  decidedBy?: string;
  decisionNote?: string;
  impact?: { recordedAt: string; metrics: Record<string, MetricImpact>; notes?: string };
}

export interface RoutingPolicy {
  defaultStrategy: string;
  strategyByTaskType: Record<string, string>;
  rules: Array<{ id: string; name: string; target: string; priority: number }>;
  defaultTarget?: string;
  ejected: Record<string, { taskTypes?: string[]; reason?: string }>;
  costWeight: number;
  costMinSuccess: number;
  limits: Record<string, { maxInFlight?: number; callsPerMinute?: number }>;
}

export interface ActivePolicy {
  version: number;
  policy: RoutingPolicy;
  source: 'built-in' | 'stored';
  activatedAt?: string;
  activatedBy?: string;
}

export interface PolicyVersion {
  version: number;
  policy: RoutingPolicy;
  createdBy: string;
  reason?: string;
  createdAt: string;
  suggestionId?: string;
  activations: Array<{ at: string; by: string }>;
  active: boolean;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface ReplayReport {
  window: { since: string; until: string };
  tasksRead: number;
  truncated: boolean;
  estimator: string;
  estimate: {
    decisions: number;
    overlapping: number;
    effectiveSampleSize: number;
    supported: boolean;
    reason?: string;
    successRate: Interval | null;
    meanCostUsd: Interval | null;
    p95LatencyMs: number | null;
    logged: { successRate: number | null; meanCostUsd: number | null; p95LatencyMs: number | null };
  };
}
