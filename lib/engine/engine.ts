/** The status of one state machine execution, as both engines report it. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionDescription {
  executionId: string;
  status: ExecutionStatus;
  startedAt: string;
  stoppedAt?: string | undefined;
  output?: unknown;
  error?: string | undefined;
  cause?: string | undefined;
}

/**
 * The workflow engine port: what the orchestrator needs from Step Functions. `SfnEngine` talks to
 * AWS (or LocalStack); `LocalEngine` runs the same definitions in-process.
 */
export interface WorkflowEngine {
  /**
   * Starts an execution named `name`. Names are unique per state machine, so starting the same
   * name twice with the same input returns the first execution (Standard workflows).
   */
  start(stateMachineArn: string, name: string, input: unknown): Promise<{ executionId: string }>;
  describe(executionId: string): Promise<ExecutionDescription>;
  stop(executionId: string, cause?: string): Promise<void>;
  /**
   * Creates the state machine `name`, or updates it, and publishes the definition as a new
   * version; the previous versions stay, so an alias can be pointed back at one (rollback).
   */
  deploy(name: string, definition: object, description: string): Promise<DeployedVersion>;
  /** Points the alias `alias` of a state machine at one of its versions; returns the alias ARN. */
  setAlias(stateMachineArn: string, alias: string, versionArn: string): Promise<string>;
  /** Completes a step that waits for a callback (`.waitForTaskToken`). */
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface DeployedVersion {
  stateMachineArn: string;
  versionArn: string;
  version: number;
}

/** Execution names allow letters, digits, `-` and `_`, up to 80 characters. */
export function executionName(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_-]/g, '-');
  return safe.length <= 80 ? safe : safe.slice(0, 80);
}
