import * as z from 'zod';
import type { RoutingDecision } from '../routing/router.ts';
import type { CallAttempt } from '../task-record.ts';
import type { ItemResult } from './fan-out.ts';
import type { RunBudgetPlan } from './run-budget.ts';
import type { RunChangeRecord } from './run-change.ts';
import type { RunControl, StepEnd } from './run-control.ts';
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
  /** The engine its runs use (Standard when absent). */
  engine?: WorkflowEngineType | undefined;
  /** The longest a run may take. */
  timeoutSeconds?: number | undefined;
  updatedAt: string;
  /** Optimistic version of this record. */
  rev: number;
}

export type WorkflowEngineType = 'standard' | 'express';

/**
 * How a run ended, kept with the run: the history reads the same after the engine forgot it (a
 * restart of the local runtime, Express runs, which the engine never describes).
 */
export interface RunEnd {
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  at: string;
  /** The step that failed the run. */
  stepId?: string | undefined;
  error?: string | undefined;
  cause?: string | undefined;
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
export const executionStatus = z.enum([
  'PENDING',
  'RUNNING',
  'PAUSED',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'CANCELLED',
]);
export type ExecutionStatus = z.output<typeof executionStatus>;
export type StepRunStatus = 'WAITING' | 'RUNNING' | 'CALLBACK' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

/** One run of a workflow, as stored when it is started; `control` is what pause, resume and cancel set. */
export interface WorkflowExecutionRecord {
  executionName: string;
  executionArn?: string | undefined;
  workflowId: string;
  version: number;
  control: ExecutionControl;
  input: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  requestHash: string;
  engine?: WorkflowEngineType | undefined;
  timeoutSeconds?: number | undefined;
  ended?: RunEnd | undefined;
  /** Executions the run has taken (redriven, resumed after a restart, changed); 1 when absent. */
  executions?: number | undefined;
  /** The run's own template once it has been changed (see `run-change.ts`). */
  runTemplate?: WorkflowTemplate | undefined;
  /** Who changed the run, what and when. */
  changes?: RunChangeRecord[] | undefined;
  /** The budget the run started with, and its plan (see `run-budget.ts`). */
  budget?: RunBudgetPlan | undefined;
  createdAt: string;
  updatedAt: string;
}

/** A run as lists show it, from its start item alone. */
export interface ListedRun {
  executionName: string;
  workflowId: string;
  version: number;
  control: ExecutionControl;
  /** Whether an engine execution was started for it. */
  started: boolean;
  ended?: RunEnd | undefined;
  createdAt: string;
}

/** What the step handler records about one step of one run. */
export interface StepRecord {
  stepId: string;
  status: StepRunStatus;
  /** Runs of the step (the state machine's retries start it again). */
  attempts: number;
  service?: string | undefined;
  /** The factory calls of the last run, with their outcomes. */
  calls?: CallAttempt[] | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  output?: unknown;
  error?: string | undefined;
  /** A fan-out step (`for_each`): how many items it ran. */
  items?: number | undefined;
  /** What its calls cost (USD; a fan-out's, all its items'), when any call's cost is known. */
  costUsd?: number | undefined;
  /** Where its task was routed, and why (the last decision, after any failover). */
  route?: RoutingDecision | undefined;
}

/** What one item of a fan-out step leaves: its status, calls and output (see `fan-out.ts`). */
export interface StepItemRecord extends ItemResult {
  calls?: CallAttempt[] | undefined;
  costUsd?: number | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
}

/**
 * How starting a step went: it runs (its attempt number, and the run's control item), the run is
 * paused or cancelled, or the step ended in an earlier execution of the run.
 */
export type StepStart =
  | { started: true; attempts: number; run: RunControl }
  | { started: false; control: 'paused' | 'cancelled' }
  | { started: false; ended: StepEnd };
