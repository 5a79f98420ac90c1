/**
 * The AWS cost of a task and of a workflow run, from what the other benchmarks measure (DynamoDB
 * requests and request units, Lambda time, the bytes the handlers log, state transitions, process
 * init) and the list prices of `prices.ts`. Everything here is plain arithmetic, so the unit tests
 * check it by hand; every figure that is assumed rather than measured is named in
 * {@link CostAssumptions} and printed with the report.
 */
import { PRICES, type PriceTable } from './prices.ts';

/** One Lambda function's part of a run. */
export interface LambdaUse {
  name: string;
  invocations: number;
  /** Billed duration of one invocation, before rounding up to the millisecond. */
  durationMs: number;
  memoryMb: number;
  /** Duration of one INIT phase (a cold start) in Lambda. */
  initMs: number;
  /** Bytes one invocation sends to its log group: the handler's lines and Lambda's own. */
  logBytes: number;
}

/** Everything one run (a task or a workflow) consumes that has a price. */
export interface RunProfile {
  name: string;
  /** The state machine the run goes through: none for a single task. */
  workflowType: 'none' | 'standard' | 'express';
  /** States entered, Standard only (Express is billed by duration). */
  stateTransitions: number;
  /** Wall time of the execution, Express only. */
  expressDurationMs: number;
  expressMemoryMb: number;
  lambda: readonly LambdaUse[];
  /** Share of invocations that start a new execution environment, whose INIT is billed. */
  coldStartShare: number;
  readUnits: number;
  writeUnits: number;
  apiRequests: number;
  sqsRequests: number;
  /** Log bytes besides the functions' own: API access logs, state machine logs. */
  otherLogBytes: number;
}

/** Dollars per 1,000 runs, by what is billed. */
export interface CostBreakdown {
  stepFunctions: number;
  lambdaRequests: number;
  lambdaDuration: number;
  lambdaInit: number;
  dynamodb: number;
  apiGateway: number;
  sqs: number;
  logs: number;
  total: number;
}

const MB_PER_GB = 1_024;

/** Lambda GB-seconds of one run's invocations: each rounded up to the millisecond. */
export function lambdaGbSeconds(uses: readonly LambdaUse[]): number {
  return uses.reduce(
    (sum, use) => sum + use.invocations * (use.memoryMb / MB_PER_GB) * (Math.ceil(use.durationMs) / 1_000),
    0,
  );
}

/** Lambda GB-seconds of INIT expected per run: the cold-start share of the invocations, each a whole INIT. */
export function initGbSeconds(uses: readonly LambdaUse[], coldStartShare: number): number {
  return uses.reduce(
    (sum, use) =>
      sum + use.invocations * coldStartShare * (use.memoryMb / MB_PER_GB) * (Math.ceil(use.initMs) / 1_000),
    0,
  );
}

/** Express GB-seconds of one run: duration up to the next 100 ms, memory up to the next 64 MB chunk. */
export function expressGbSeconds(durationMs: number, memoryMb: number, prices: PriceTable = PRICES): number {
  const { expressDurationStepMs: step, expressMemoryChunkMb: chunk } = prices.stepFunctions;
  const billedMs = Math.max(step, Math.ceil(durationMs / step) * step);
  const billedMb = Math.max(chunk, Math.ceil(memoryMb / chunk) * chunk);
  return (billedMb / MB_PER_GB) * (billedMs / 1_000);
}

/** Bytes one run sends to CloudWatch Logs. */
export function runLogBytes(profile: Pick<RunProfile, 'lambda' | 'otherLogBytes'>): number {
  return profile.lambda.reduce((sum, use) => sum + use.invocations * use.logBytes, profile.otherLogBytes);
}

/** The cost of 1,000 runs of `profile`. */
export function costPer1000(profile: RunProfile, prices: PriceTable = PRICES): CostBreakdown {
  const runs = 1_000;
  const stepFunctions =
    profile.workflowType === 'standard'
      ? profile.stateTransitions * prices.stepFunctions.standardPerTransition
      : profile.workflowType === 'express'
        ? prices.stepFunctions.expressPerRequest +
          expressGbSeconds(profile.expressDurationMs, profile.expressMemoryMb, prices) *
            prices.stepFunctions.expressPerGbSecond
        : 0;
  const invocations = profile.lambda.reduce((sum, use) => sum + use.invocations, 0);
  const parts = {
    stepFunctions: runs * stepFunctions,
    lambdaRequests: runs * invocations * prices.lambda.perRequest,
    lambdaDuration: runs * lambdaGbSeconds(profile.lambda) * prices.lambda.perGbSecond,
    lambdaInit: runs * initGbSeconds(profile.lambda, profile.coldStartShare) * prices.lambda.perGbSecond,
    dynamodb:
      runs *
      (profile.readUnits * prices.dynamodb.perReadRequestUnit +
        profile.writeUnits * prices.dynamodb.perWriteRequestUnit),
    apiGateway: runs * profile.apiRequests * prices.apiGateway.httpApiPerRequest,
    sqs: runs * profile.sqsRequests * prices.sqs.standardPerRequest,
    logs:
      runs * (runLogBytes(profile) / prices.cloudWatchLogs.bytesPerGb) * prices.cloudWatchLogs.ingestionPerGb,
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/**
 * What one invocation of a handler did, as measured locally (means over the counted
 * invocations): its duration in process, how long it waited on the local DynamoDB (wall time with
 * at least one request in flight), how many rounds of requests it made (requests in flight
 * together count once), how long it waited on a factory, and the bytes it wrote to stdout and
 * stderr (its log lines and metrics).
 */
export interface MeasuredInvocation {
  name: string;
  localMs: number;
  localDbMs: number;
  dbRoundTrips: number;
  factoryMs: number;
  logBytes: number;
}

/** The measured counts the model starts from. */
export interface MeasuredCounts {
  /** One task through the API: SubmitTask, then TaskWorker, then one GET /tasks/{id}. */
  task: {
    submit: MeasuredInvocation;
    worker: MeasuredInvocation;
    status: MeasuredInvocation;
    /** DynamoDB of SubmitTask and TaskWorker per task, index writes included. */
    readRequests: number;
    writeRequests: number;
    readUnits: number;
    writeUnits: number;
    /** One GET /tasks/{id}: one read. */
    statusReadUnits: number;
  };
  /** A workflow template; undefined when the workflow benchmarks did not run. */
  workflow?:
    | {
        name: string;
        steps: number;
        stepsOnCriticalPath: number;
        /** States a successful run enters on Standard, and on Express (its `Record end` included). */
        standardTransitions: number;
        expressTransitions: number;
        /**
         * DynamoDB requests of one Standard run (start and steps, no status read) and their
         * request units, index writes included; see `requestsSource`.
         */
        readRequests: number;
        writeRequests: number;
        readUnits: number;
        writeUnits: number;
        requestsSource: string;
      }
    | undefined;
  /** Local process init (ms) per function id, from the cold-start benchmark; others are assumed. */
  processInitMs: Readonly<Record<string, number>>;
  /** Memory (MB) per function id. */
  memoryMb: Readonly<Record<string, number>>;
}

/** The figures the model assumes: each one is printed with the report. */
export interface CostAssumptions {
  /** A synchronous factory call: the design keeps it under about a second, longer work goes asynchronous. */
  factoryWaitMs: number;
  /** One round of DynamoDB requests from Lambda in the same region. */
  dynamoRoundTripMs: number;
  /**
   * Lambda gives CPU in proportion to memory, one vCPU at this many MB: local compute time is
   * multiplied by it / memory (at least 1), taking a local core to be worth one Lambda vCPU.
   */
  vcpuMb: number;
  /**
   * INIT (ms, in Lambda) of a function whose process init the cold-start benchmark did not
   * measure. A measured one is taken as it is: INIT runs with burst CPU, not the memory's share,
   * so the local process init (Node start and module load on one core) stands for it.
   */
  initMs: number;
  /** Share of invocations that are cold starts (AWS: "typically under 1%"). */
  coldStartShare: number;
  /** GET /tasks/{id} (or /executions/{id}) calls a client makes per run before it sees the outcome. */
  statusReadsPerRun: number;
  /**
   * Task messages per worker invocation when tasks arrive faster than one at a time: the queue's
   * event source hands the worker up to 10, which it works on at once, so they share one
   * invocation, one factory wait, one receive and one delete. The single-task row is priced at
   * one message per invocation, the at-load row at this many.
   */
  loadBatchSize: number;
  /**
   * Lambda's START, END and REPORT lines per invocation: none at the stack's default system log
   * level (WARN); about 300 bytes at INFO.
   */
  platformLogBytes: number;
  /** One API Gateway access log line (the stack's JSON format, an IAM caller ARN). */
  apiAccessLogBytes: number;
  /** A successful run of a state machine logging at ERROR without execution data logs nothing. */
  stateMachineLogBytesPerRun: number;
  /** Step Functions' own time per state entered (Express duration only). */
  transitionOverheadMs: number;
  expressMemoryMb: number;
  /** One Step Functions API call from Lambda (StartExecution, DescribeExecution). */
  stepFunctionsCallMs: number;
  /**
   * The workflow's API handlers, from reading `WorkflowService`: starting reads the workflow,
   * puts the run, calls StartExecution and sets the run's ARN (1 read, 2 writes, each its own
   * round); a status read reads the run and its steps (2 reads) and calls DescribeExecution.
   */
  workflowStart: { reads: number; writes: number; stepFunctionsCalls: number };
  workflowStatus: { reads: number; stepFunctionsCalls: number };
  /**
   * A workflow step runs the task worker's code (decide, route, call, save, statistics) plus one
   * write of its own: its start. It is priced as the measured worker plus that write and round.
   */
  stepExtraWrites: number;
  /** Read units of one read when the task path made none to measure (a consistent read up to 4 KB). */
  readUnitsPerReadFallback: number;
  /** An Express run's end, recorded on its small control item. */
  runEndWriteUnits: number;
}

export function defaultAssumptions(): CostAssumptions {
  return {
    factoryWaitMs: 1_000,
    dynamoRoundTripMs: 8,
    vcpuMb: 1_769,
    initMs: 250,
    coldStartShare: 0.01,
    statusReadsPerRun: 1,
    loadBatchSize: 10,
    platformLogBytes: 0,
    apiAccessLogBytes: 400,
    stateMachineLogBytesPerRun: 0,
    transitionOverheadMs: 10,
    expressMemoryMb: 64,
    stepFunctionsCallMs: 25,
    workflowStart: { reads: 1, writes: 2, stepFunctionsCalls: 1 },
    workflowStatus: { reads: 2, stepFunctionsCalls: 1 },
    stepExtraWrites: 1,
    readUnitsPerReadFallback: 1,
    runEndWriteUnits: 1,
  };
}

/** Lambda's CPU relative to a local core at `memoryMb` (never faster than one vCPU for one thread). */
export function cpuScale(memoryMb: number, a: CostAssumptions): number {
  return Math.max(1, a.vcpuMb / memoryMb);
}

/**
 * Duration of an invocation in Lambda: local compute (local time less the local waits on DynamoDB
 * and the factory) scaled to Lambda's CPU share, plus DynamoDB rounds at cloud latency, plus the
 * assumed factory wait when it called a factory, plus `extraMs` of other waits. An invocation
 * that works on `batch` messages at once does the compute of each in turn, while their waits
 * overlap.
 */
export function cloudDurationMs(
  m: MeasuredInvocation,
  memoryMb: number,
  a: CostAssumptions,
  extraMs = 0,
  batch = 1,
): number {
  const compute = Math.max(0, m.localMs - m.localDbMs - m.factoryMs) * cpuScale(memoryMb, a) * batch;
  return compute + m.dbRoundTrips * a.dynamoRoundTripMs + (m.factoryMs > 0 ? a.factoryWaitMs : 0) + extraMs;
}

/** SQS requests per task message: its send, and its share of a batch's receive and delete. */
export function sqsRequestsPerMessage(batch: number): number {
  return 1 + 2 / batch;
}

export interface CostRow {
  name: string;
  workflowType: RunProfile['workflowType'];
  profile: RunProfile;
  perRun: {
    stateTransitions: number;
    expressDurationMs: number;
    lambdaInvocations: number;
    lambdaGbSeconds: number;
    initGbSeconds: number;
    readUnits: number;
    writeUnits: number;
    apiRequests: number;
    sqsRequests: number;
    logBytes: number;
  };
  per1000: CostBreakdown;
}

function row(profile: RunProfile, prices: PriceTable): CostRow {
  return {
    name: profile.name,
    workflowType: profile.workflowType,
    profile,
    perRun: {
      stateTransitions: profile.workflowType === 'standard' ? profile.stateTransitions : 0,
      expressDurationMs: profile.workflowType === 'express' ? profile.expressDurationMs : 0,
      lambdaInvocations: profile.lambda.reduce((sum, u) => sum + u.invocations, 0),
      lambdaGbSeconds: lambdaGbSeconds(profile.lambda),
      initGbSeconds: initGbSeconds(profile.lambda, profile.coldStartShare),
      readUnits: profile.readUnits,
      writeUnits: profile.writeUnits,
      apiRequests: profile.apiRequests,
      sqsRequests: profile.sqsRequests,
      logBytes: runLogBytes(profile),
    },
    per1000: costPer1000(profile, prices),
  };
}

/**
 * The runs the report prices:
 * - a single task through the API: POST /tasks (SubmitTask), one task-queue message (TaskWorker),
 *   one GET /tasks/{id}; alone in its worker invocation, and at load, sharing one;
 * - a workflow on Standard: POST .../executions (StartExecution), one RunWorkflowStep per step,
 *   one GET /executions/{id};
 * - the same on Express, which records its end through one more RunWorkflowStep invocation and
 *   one more DynamoDB write, and is billed by duration instead of transitions.
 *
 * Not counted: X-Ray traces, custom metrics (a monthly price per metric, not per run), log
 * storage and queries, data transfer, table storage, free tiers, and the SQS receives of an idle
 * queue (long polls that find nothing).
 */
export function costModel(
  measured: MeasuredCounts,
  assumptions: CostAssumptions = defaultAssumptions(),
  prices: PriceTable = PRICES,
): CostRow[] {
  const a = assumptions;
  const { task, workflow } = measured;
  const memoryOf = (id: string) => measured.memoryMb[id] ?? 512;
  const initOf = (id: string) => measured.processInitMs[id] ?? a.initMs;
  const use = (
    id: string,
    m: MeasuredInvocation,
    invocations: number,
    patch: { extraRounds?: number; extraMs?: number; batch?: number } = {},
  ): LambdaUse => ({
    name: id,
    invocations: invocations / (patch.batch ?? 1),
    durationMs: cloudDurationMs(
      { ...m, dbRoundTrips: m.dbRoundTrips + (patch.extraRounds ?? 0) },
      memoryOf(id),
      a,
      patch.extraMs ?? 0,
      patch.batch,
    ),
    memoryMb: memoryOf(id),
    initMs: initOf(id),
    logBytes: m.logBytes + a.platformLogBytes,
  });
  const apiRequests = 1 + a.statusReadsPerRun;

  const singleTask = (name: string, batch: number): RunProfile => ({
    name,
    workflowType: 'none',
    stateTransitions: 0,
    expressDurationMs: 0,
    expressMemoryMb: 0,
    lambda: [
      use('SubmitTask', task.submit, 1),
      use('TaskWorker', task.worker, 1, { batch }),
      use('GetTask', task.status, a.statusReadsPerRun),
    ],
    coldStartShare: a.coldStartShare,
    readUnits: task.readUnits + a.statusReadsPerRun * task.statusReadUnits,
    writeUnits: task.writeUnits,
    apiRequests,
    sqsRequests: sqsRequestsPerMessage(batch),
    otherLogBytes: apiRequests * a.apiAccessLogBytes,
  });
  const single = singleTask('single task via API', 1);
  const atLoad = singleTask(
    `single task via API, at load (${a.loadBatchSize} per worker invocation)`,
    a.loadBatchSize,
  );
  if (!workflow) return [single, atLoad].map((profile) => row(profile, prices));

  const step = use('RunWorkflowStep', task.worker, workflow.steps, { extraRounds: a.stepExtraWrites });
  const start = use('StartExecution', task.submit, 1, {
    extraRounds: a.workflowStart.reads + a.workflowStart.writes - task.submit.dbRoundTrips,
    extraMs: a.workflowStart.stepFunctionsCalls * a.stepFunctionsCallMs,
  });
  const status = use('GetExecution', task.status, a.statusReadsPerRun, {
    extraRounds: a.workflowStatus.reads - task.status.dbRoundTrips,
    extraMs: a.workflowStatus.stepFunctionsCalls * a.stepFunctionsCallMs,
  });
  const statusReadUnits = a.statusReadsPerRun * a.workflowStatus.reads * task.statusReadUnits;
  const standard: RunProfile = {
    name: `${workflow.steps}-step workflow (${workflow.name})`,
    workflowType: 'standard',
    stateTransitions: workflow.standardTransitions,
    expressDurationMs: 0,
    expressMemoryMb: 0,
    lambda: [start, step, status],
    coldStartShare: a.coldStartShare,
    readUnits: workflow.readUnits + statusReadUnits,
    writeUnits: workflow.writeUnits,
    apiRequests,
    sqsRequests: 0,
    otherLogBytes: apiRequests * a.apiAccessLogBytes + a.stateMachineLogBytesPerRun,
  };
  // Express runs record their end through the step function: one invocation, one write, one round.
  const recordEnd: LambdaUse = {
    ...use(
      'RunWorkflowStep',
      { ...task.worker, localMs: task.worker.localMs - task.worker.factoryMs, factoryMs: 0, dbRoundTrips: 1 },
      1,
    ),
    name: 'RunWorkflowStep (record end)',
  };
  const express: RunProfile = {
    ...standard,
    workflowType: 'express',
    stateTransitions: 0,
    expressDurationMs:
      workflow.stepsOnCriticalPath * step.durationMs + workflow.expressTransitions * a.transitionOverheadMs,
    expressMemoryMb: a.expressMemoryMb,
    lambda: [start, step, recordEnd, status],
    writeUnits: standard.writeUnits + a.runEndWriteUnits,
  };
  return [single, atLoad, standard, express].map((profile) => row(profile, prices));
}

/**
 * A workflow run's DynamoDB use when nobody counted it: each step as a task (the measured
 * SubmitTask and TaskWorker requests: a step writes its start, its end and each call's statistics
 * as a task writes its record, its save and its statistics) plus the start handler's, at the task
 * path's units per read and per write.
 */
export function estimatedWorkflowUse(
  task: Pick<MeasuredCounts['task'], 'readRequests' | 'writeRequests' | 'readUnits' | 'writeUnits'>,
  steps: number,
  a: CostAssumptions,
): { readRequests: number; writeRequests: number; readUnits: number; writeUnits: number } {
  const readRequests = steps * task.readRequests + a.workflowStart.reads;
  const writeRequests = steps * task.writeRequests + a.workflowStart.writes;
  const readUnitsPerRead =
    task.readRequests > 0 ? task.readUnits / task.readRequests : a.readUnitsPerReadFallback;
  const writeUnitsPerWrite = task.writeRequests > 0 ? task.writeUnits / task.writeRequests : 1;
  return {
    readRequests,
    writeRequests,
    readUnits: readRequests * readUnitsPerRead,
    writeUnits: writeRequests * writeUnitsPerWrite,
  };
}
