import type { ListWindow } from '../list-window.ts';
import type { StateMachineType } from './compile.ts';
import type { RunChangeRecord } from './run-change.ts';
import type { ParkedGate, RunControl, StepEnd } from './run-control.ts';
import type { WorkflowTemplate } from './template.ts';
import type {
  ExecutionControl,
  ListedRun,
  RunEnd,
  StepItemRecord,
  StepRecord,
  StepRunStatus,
  StepStart,
  WorkflowExecutionRecord,
  WorkflowHead,
  WorkflowVersion,
} from './workflow-records.ts';

/** Storage for workflows and their runs (implemented by `lib/store/workflow-store.ts`). */
export interface WorkflowRepository {
  getHead(workflowId: string): Promise<WorkflowHead | undefined>;
  listHeads(): Promise<WorkflowHead[]>;
  putHead(head: WorkflowHead, expectedRev: number | undefined): Promise<void>;
  putVersion(version: WorkflowVersion): Promise<void>;
  getVersion(workflowId: string, version: number): Promise<WorkflowVersion | undefined>;
  listVersions(workflowId: string): Promise<WorkflowVersion[]>;
  putExecutionIfAbsent(record: WorkflowExecutionRecord): Promise<WorkflowExecutionRecord | undefined>;
  getExecution(executionName: string): Promise<WorkflowExecutionRecord | undefined>;
  /** A page of runs, newest first, that `accept` takes; `next` is where the next page starts. */
  listExecutions(
    window: ListWindow,
    accept: (run: ListedRun) => boolean,
  ): Promise<{ runs: ListedRun[]; next?: string | undefined }>;
  setExecutionArn(executionName: string, executionArn: string, now: Date): Promise<void>;
  deleteExecution(executionName: string): Promise<void>;
  /** Moves the control from one of `from` to `to`: the control item after, undefined when refused. */
  setControl(
    executionName: string,
    from: ExecutionControl[],
    to: ExecutionControl,
    now: Date,
  ): Promise<RunControl | undefined>;
  readControl(executionName: string): Promise<RunControl>;
  /** Parks a gate on the control item; returns the item after. */
  parkGate(executionName: string, stepId: string, gate: ParkedGate): Promise<RunControl>;
  /**
   * Records how a step ended for good; returns the control item after. With `onlyFirst`, an end
   * already recorded stays (a late success does not undo the failure its timeout recorded).
   */
  endStep(
    executionName: string,
    stepId: string,
    status: StepEnd,
    options?: { onlyFirst?: boolean },
  ): Promise<RunControl>;

  /** The outputs of succeeded steps, by step id (read consistently: a step may have just ended). */
  stepOutputs(executionName: string, stepIds: readonly string[]): Promise<Record<string, unknown>>;
  /** Budgeted runs: commits money to a step if what is committed is at most `ceiling`. */
  commitBudget(executionName: string, amount: number, ceiling: number): Promise<boolean>;
  /** Budgeted runs: replaces a step's committed estimate by its cost. */
  settleBudget(executionName: string, delta: number): Promise<void>;
  /** Writes the record of one item of a fan-out step (a retry of the item writes it again). */
  putStepItem(executionName: string, stepId: string, record: StepItemRecord): Promise<void>;
  /** The records of items 0 to `count - 1` of a fan-out step, in order (read consistently). */
  stepItems(executionName: string, stepId: string, count: number): Promise<StepItemRecord[]>;
  /** Each step that started: its last run's status, and how many runs it had. */
  listSteps(executionName: string): Promise<StepRecord[]>;
  /**
   * Marks a step started and counts the run, unless the run is paused or cancelled or the step
   * has ended for good: the check and the mark are one conditional write, which also returns the
   * control item (how the other steps ended). A callback step also stores its token's hash here.
   */
  startStep(
    executionName: string,
    stepId: string,
    fields: { startedAt: string; tokenHash?: string | undefined },
  ): Promise<StepStart>;
  /**
   * Writes a step's status at time `at`; with `onlyIf`, only while its status is one of those (a
   * step that has started but not written one counts as RUNNING). Returns the step after the write, undefined
   * when the condition did not hold.
   */
  updateStep(
    executionName: string,
    stepId: string,
    patch: { status: StepRunStatus; at: string; onlyIf?: StepRunStatus[] } & Partial<
      Omit<StepRecord, 'stepId' | 'status' | 'attempts'>
    >,
  ): Promise<StepRecord | undefined>;
  /**
   * Records how a run ended; the first end stays. With `executionArn`, only while that execution
   * is the run's current one.
   */
  recordRunEnd(executionName: string, end: RunEnd, options?: { executionArn?: string }): Promise<void>;
  /**
   * Takes the callback token a step waits with, once: undefined when it is not the step's token
   * (any more). A step carried into a new execution waits there with `engineToken`.
   */
  consumeStepToken(
    executionName: string,
    stepId: string,
    tokenHash: string,
  ): Promise<{ engineToken?: string } | undefined>;
  /**
   * Before a run moves to a new execution: forgets every parked gate, how the `reopen` steps
   * ended (they run again), keeps the callback token of the `carry` steps (still waiting), and
   * marks the `succeeded` steps so (they are not run again).
   */
  prepareRerun(
    executionName: string,
    steps: {
      all: readonly string[];
      reopen: readonly string[];
      carry: readonly string[];
      succeeded: readonly string[];
    },
  ): Promise<void>;
  /** A carried callback step waits in the new execution with `engineToken` (see `RunControl.carried`). */
  rebindCallback(
    executionName: string,
    stepId: string,
    callback: { tokenHash: string; engineToken: string },
  ): Promise<void>;
  /** Keeps the run's own template after a change, and the change in its history. */
  recordChange(
    executionName: string,
    change: { template: WorkflowTemplate; entry: RunChangeRecord },
  ): Promise<void>;
  /** The run now runs as `executionArn`: counted, and its recorded end cleared. */
  restartExecution(executionName: string, executionArn: string, now: Date): Promise<void>;
}

/** The status of one state machine execution, as both engines report it. */
export type EngineExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionDescription {
  executionId: string;
  status: EngineExecutionStatus;
  startedAt: string;
  stoppedAt?: string | undefined;
  output?: unknown;
  error?: string | undefined;
  cause?: string | undefined;
}

/**
 * The workflow engine port: what workflows need from Step Functions. `SfnEngine` talks to
 * AWS (or LocalStack); `LocalEngine` runs the same definitions in-process.
 */
export interface WorkflowEngine {
  /**
   * Starts an execution named `name`. Names are unique per state machine, so starting the same
   * name twice with the same input returns the first execution (Standard workflows).
   */
  start(stateMachineArn: string, name: string, input: unknown): Promise<{ executionId: string }>;
  /**
   * The execution's status and output. Throws `ExecutionNotDescribable` (`lib/engine/engine.ts`) for an execution
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

export interface DeployedVersion {
  stateMachineArn: string;
  versionArn: string;
  version: number;
}
