import { ConflictError } from '../core/errors.ts';
import type { StateMachineType } from '../core/workflow/compile.ts';

export type { StateMachineType };

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
  /**
   * The execution's status and output. Throws {@link ExecutionNotDescribable} for an execution
   * the engine keeps no record of (Express executions on Step Functions).
   */
  describe(executionId: string): Promise<ExecutionDescription>;
  stop(executionId: string, cause?: string): Promise<void>;
  /**
   * Creates the state machine `name`, or updates it, and publishes the definition as a new
   * version; the previous versions stay, so an alias can be pointed back at one (rollback).
   * A state machine keeps the type it was created with: deploying it with another type is a
   * `ConflictError`.
   */
  deploy(
    name: string,
    definition: object,
    description: string,
    options?: DeployOptions,
  ): Promise<DeployedVersion>;
  /** Points the alias `alias` of a state machine at one of its versions; returns the alias ARN. */
  setAlias(stateMachineArn: string, alias: string, versionArn: string): Promise<string>;
  /** Completes a step that waits for a callback (`.waitForTaskToken`). */
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface DeployOptions {
  /** The type of a state machine created by this deploy; `STANDARD` when absent. */
  type?: StateMachineType | undefined;
}

/**
 * The engine cannot describe this execution: Step Functions keeps no history of Express
 * executions (DescribeExecution refuses them), so the caller answers from its own records.
 */
export class ExecutionNotDescribable extends Error {
  constructor(
    readonly executionId: string,
    options?: { cause?: unknown },
  ) {
    super(`execution '${executionId}' cannot be described: express executions keep no history`, options);
    this.name = 'ExecutionNotDescribable';
  }
}

/** A deploy that asks for another type than the state machine was created with. */
export function typeChangeConflict(
  name: string,
  existing: StateMachineType,
  requested: StateMachineType,
  options?: { cause?: unknown },
): ConflictError {
  return new ConflictError(
    `the engine of a workflow cannot change between versions: '${name}' runs on ${existing.toLowerCase()}, not ${requested.toLowerCase()}`,
    options,
  );
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
