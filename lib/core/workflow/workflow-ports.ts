import type {
  ExecutionControl,
  StepRecord,
  StepRunStatus,
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
  setExecutionArn(executionName: string, executionArn: string, now: Date): Promise<void>;
  deleteExecution(executionName: string): Promise<void>;
  setControl(
    executionName: string,
    from: ExecutionControl[],
    to: ExecutionControl,
    now: Date,
  ): Promise<boolean>;
  listSteps(executionName: string): Promise<StepRecord[]>;
  updateStep(
    executionName: string,
    stepId: string,
    patch: { status: StepRunStatus; attempt?: boolean; onlyIf?: StepRunStatus[] } & Partial<
      Omit<StepRecord, 'stepId' | 'status' | 'attempts'>
    >,
  ): Promise<number>;
  putToken(taskToken: string, executionName: string, stepId: string, now: Date): Promise<void>;
  getToken(taskToken: string): Promise<{ executionName: string; stepId: string } | undefined>;
}

/** What workflows need from the engine (Step Functions, or the local one). */
export interface WorkflowEnginePort {
  start(stateMachineArn: string, name: string, input: unknown): Promise<{ executionId: string }>;
  describe(executionId: string): Promise<{
    status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
    startedAt: string;
    stoppedAt?: string | undefined;
    output?: unknown;
    error?: string | undefined;
    cause?: string | undefined;
  }>;
  stop(executionId: string, cause?: string): Promise<void>;
  deploy(
    name: string,
    definition: object,
    description: string,
  ): Promise<{ stateMachineArn: string; versionArn: string; version: number }>;
  setAlias(stateMachineArn: string, alias: string, versionArn: string): Promise<string>;
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}
