import type { WorkflowTemplate } from './template.ts';

/** A registered workflow: which version runs, where its state machine and alias are. */
export interface WorkflowHead {
  workflowId: string;
  name: string;
  description: string;
  /** The version new executions run (the alias points at it). */
  currentVersion: number;
  latestVersion: number;
  stateMachineArn: string;
  aliasArn: string;
  updatedAt: string;
  /** Optimistic version of this record. */
  rev: number;
}

/** One published version of a workflow: the template as registered and its state machine version. */
export interface WorkflowVersion {
  workflowId: string;
  version: number;
  template: WorkflowTemplate;
  versionArn: string;
  states: number;
  strategy: string;
  createdAt: string;
}

export type ExecutionControl = 'running' | 'paused' | 'cancelled';
export type ExecutionStatus = 'PENDING' | 'RUNNING' | 'PAUSED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type StepRunStatus = 'WAITING' | 'RUNNING' | 'CALLBACK' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

/** One run of a workflow, as stored when it is started. */
export interface WorkflowExecutionRecord {
  executionName: string;
  executionArn?: string | undefined;
  workflowId: string;
  version: number;
  control: ExecutionControl;
  input: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  requestHash: string;
  createdAt: string;
  updatedAt: string;
}

/** What the step handler records about one step of one run. */
export interface StepRecord {
  stepId: string;
  status: StepRunStatus;
  attempts: number;
  service?: string | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  output?: unknown;
  error?: string | undefined;
}
