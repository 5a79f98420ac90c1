/**
 * The AWS cost of running tasks and workflows, from counts measured by the other benchmarks
 * (state transitions, Lambda invocations and their durations, DynamoDB request units, API
 * requests) and the list prices of `prices.ts`. Everything here is plain arithmetic, so the unit
 * tests can check it by hand; every figure that is assumed rather than measured is named in
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
}

/** Everything one run (a task or a workflow) consumes that has a price. */
export interface RunProfile {
  name: string;
  workflowType: 'standard' | 'express';
  /** States entered, Standard only (Express is billed by duration). */
  stateTransitions: number;
  /** Wall time of the execution, Express only. */
  expressDurationMs: number;
  expressMemoryMb: number;
  lambda: readonly LambdaUse[];
  readUnits: number;
  writeUnits: number;
  apiRequests: number;
  sqsRequests: number;
}

/** Dollars per 1,000 runs, by what is billed. */
export interface CostBreakdown {
  stepFunctions: number;
  lambdaRequests: number;
  lambdaCompute: number;
  dynamodb: number;
  apiGateway: number;
  sqs: number;
  total: number;
}

const GB = 1_024;

/** Lambda GB-seconds of one run: each invocation rounded up to the millisecond. */
export function lambdaGbSeconds(uses: readonly LambdaUse[]): number {
  return uses.reduce(
    (sum, use) => sum + use.invocations * (use.memoryMb / GB) * (Math.ceil(use.durationMs) / 1_000),
    0,
  );
}

/** Express GB-seconds of one run: duration up to the next 100 ms, memory up to the next 64 MB chunk. */
export function expressGbSeconds(durationMs: number, memoryMb: number, prices: PriceTable = PRICES): number {
  const { expressDurationStepMs: step, expressMemoryChunkMb: chunk } = prices.stepFunctions;
  const billedMs = Math.max(step, Math.ceil(durationMs / step) * step);
  const billedMb = Math.max(chunk, Math.ceil(memoryMb / chunk) * chunk);
  return (billedMb / GB) * (billedMs / 1_000);
}

/** The cost of 1,000 runs of `profile`. */
export function costPer1000(profile: RunProfile, prices: PriceTable = PRICES): CostBreakdown {
  const runs = 1_000;
  const stepFunctions =
    profile.workflowType === 'standard'
      ? profile.stateTransitions * prices.stepFunctions.standardPerTransition
      : prices.stepFunctions.expressPerRequest +
        expressGbSeconds(profile.expressDurationMs, profile.expressMemoryMb, prices) *
          prices.stepFunctions.expressPerGbSecond;
  const invocations = profile.lambda.reduce((sum, use) => sum + use.invocations, 0);
  const parts = {
    stepFunctions: runs * stepFunctions,
    lambdaRequests: runs * invocations * prices.lambda.perRequest,
    lambdaCompute: runs * lambdaGbSeconds(profile.lambda) * prices.lambda.perGbSecond,
    dynamodb:
      runs *
      (profile.readUnits * prices.dynamodb.perReadRequestUnit +
        profile.writeUnits * prices.dynamodb.perWriteRequestUnit),
    apiGateway: runs * profile.apiRequests * prices.apiGateway.httpApiPerRequest,
    sqs: runs * profile.sqsRequests * prices.sqs.standardPerRequest,
  };
  return { ...parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/**
 * What one Lambda invocation did, as measured locally: its duration in process, how long it
 * waited on the local DynamoDB (wall time with at least one request in flight), how many rounds
 * of requests it made (requests in flight together count once), the request units the requests
 * consumed, and how long it waited on a factory.
 */
export interface MeasuredInvocation {
  name: string;
  invocationsPerRun: number;
  localMs: number;
  localDbMs: number;
  dbRoundTrips: number;
  dbCalls: number;
  readUnits: number;
  writeUnits: number;
  factoryMs: number;
}

/** The measured counts the model starts from. */
export interface MeasuredCounts {
  /** The task pipeline: its steps, and the states a successful run enters. */
  pipeline: { transitions: number; steps: readonly MeasuredInvocation[] };
  /** POST /tasks and one GET /tasks/{id}. */
  submit: MeasuredInvocation;
  status: MeasuredInvocation;
  /** A workflow template: states a successful run enters, and how many steps lie on its longest path. */
  workflow: { name: string; steps: number; transitions: number; stepsOnCriticalPath: number };
}

/** The figures the model assumes: each one is printed with the report. */
export interface CostAssumptions {
  /** The manifest's default (no function sets its own). */
  lambdaMemoryMb: number;
  /** A synchronous factory call: the design keeps it under about a second, longer work goes asynchronous. */
  factoryWaitMs: number;
  /** One round of DynamoDB requests from Lambda in the same region. */
  dynamoRoundTripMs: number;
  /**
   * Lambda gives CPU in proportion to memory (one vCPU at 1,769 MB): local compute time is
   * multiplied by 1,769 / memory, taking a local core to be worth one Lambda vCPU.
   */
  cpuScale: number;
  /** Step Functions' own time per state entered (Express duration only). */
  transitionOverheadMs: number;
  expressMemoryMb: number;
  /** GET /tasks/{id} calls a client makes per task before it sees the outcome. */
  statusReadsPerRun: number;
  /** SQS requests per task submitted through the intake queue: send, receive, delete (no batching). */
  sqsRequestsPerQueuedTask: number;
}

export function defaultAssumptions(lambdaMemoryMb = 512): CostAssumptions {
  return {
    lambdaMemoryMb,
    factoryWaitMs: 1_000,
    dynamoRoundTripMs: 8,
    cpuScale: 1_769 / lambdaMemoryMb,
    transitionOverheadMs: 10,
    expressMemoryMb: 64,
    statusReadsPerRun: 1,
    sqsRequestsPerQueuedTask: 3,
  };
}

/**
 * Duration of the invocation in Lambda: local compute (local time less the local waits on
 * DynamoDB and the factory) scaled to Lambda's CPU share, plus DynamoDB rounds at cloud latency,
 * plus the assumed factory wait when it called a factory.
 */
export function cloudDurationMs(m: MeasuredInvocation, a: CostAssumptions): number {
  const compute = Math.max(0, m.localMs - m.localDbMs - m.factoryMs) * a.cpuScale;
  return compute + m.dbRoundTrips * a.dynamoRoundTripMs + (m.factoryMs > 0 ? a.factoryWaitMs : 0);
}

export interface CostRow {
  name: string;
  workflowType: 'standard' | 'express';
  perRun: {
    stateTransitions: number;
    expressDurationMs: number;
    lambdaInvocations: number;
    lambdaGbSeconds: number;
    readUnits: number;
    writeUnits: number;
    apiRequests: number;
    sqsRequests: number;
  };
  per1000: CostBreakdown;
}

function use(m: MeasuredInvocation, a: CostAssumptions, invocations = m.invocationsPerRun): LambdaUse {
  return { name: m.name, invocations, durationMs: cloudDurationMs(m, a), memoryMb: a.lambdaMemoryMb };
}

function row(profile: RunProfile, prices: PriceTable): CostRow {
  return {
    name: profile.name,
    workflowType: profile.workflowType,
    perRun: {
      stateTransitions: profile.workflowType === 'standard' ? profile.stateTransitions : 0,
      expressDurationMs: profile.workflowType === 'express' ? profile.expressDurationMs : 0,
      lambdaInvocations: profile.lambda.reduce((sum, u) => sum + u.invocations, 0),
      lambdaGbSeconds: lambdaGbSeconds(profile.lambda),
      readUnits: profile.readUnits,
      writeUnits: profile.writeUnits,
      apiRequests: profile.apiRequests,
      sqsRequests: profile.sqsRequests,
    },
    per1000: costPer1000(profile, prices),
  };
}

/**
 * The runs the report prices:
 * - a single task submitted through the API, on a Standard and on an Express pipeline;
 * - the same task submitted through the intake queue (Standard);
 * - a workflow whose every step runs the pipeline's work inside one step Lambda (the compiler's
 *   shape: one Task state per step), on Standard and on Express;
 * - the same workflow with each step a nested Standard pipeline execution, for comparison.
 *
 * Not counted: what a workflow writes beyond its steps' tasks (execution and per-step status
 * records), CloudWatch logs, X-Ray traces, data transfer, storage, and free tiers. The intake
 * Lambda of a queued task is taken to cost what SubmitTask costs.
 */
export function costModel(
  measured: MeasuredCounts,
  assumptions: CostAssumptions = defaultAssumptions(),
  prices: PriceTable = PRICES,
): CostRow[] {
  const a = assumptions;
  const { pipeline, submit, status, workflow } = measured;
  const statusUse = use(status, a, a.statusReadsPerRun);
  const sum = (items: readonly MeasuredInvocation[], pick: (m: MeasuredInvocation) => number) =>
    items.reduce((total, m) => total + pick(m) * m.invocationsPerRun, 0);
  const pipelineUses = pipeline.steps.map((m) => use(m, a));
  const pipelineMs = pipelineUses.reduce((total, u) => total + u.invocations * u.durationMs, 0);
  const pipelineUnits = {
    read: sum(pipeline.steps, (m) => m.readUnits),
    write: sum(pipeline.steps, (m) => m.writeUnits),
  };
  const apiUnits = {
    read: submit.readUnits + a.statusReadsPerRun * status.readUnits,
    write: submit.writeUnits + a.statusReadsPerRun * status.writeUnits,
  };

  const task = (type: 'standard' | 'express', viaQueue = false): RunProfile => ({
    name: viaQueue ? 'single task via intake queue' : 'single task via API',
    workflowType: type,
    stateTransitions: pipeline.transitions,
    expressDurationMs: pipelineMs + pipeline.transitions * a.transitionOverheadMs,
    expressMemoryMb: a.expressMemoryMb,
    lambda: [{ ...use(submit, a), name: viaQueue ? 'TaskIntake' : submit.name }, ...pipelineUses, statusUse],
    readUnits: apiUnits.read + pipelineUnits.read,
    writeUnits: apiUnits.write + pipelineUnits.write,
    apiRequests: (viaQueue ? 0 : 1) + a.statusReadsPerRun,
    sqsRequests: viaQueue ? a.sqsRequestsPerQueuedTask : 0,
  });

  // One step Lambda does a task's Decide, Route, CallFactory and Record in one invocation.
  const stepLambda: LambdaUse = {
    name: 'RunStep',
    invocations: workflow.steps,
    durationMs: pipelineMs,
    memoryMb: a.lambdaMemoryMb,
  };
  const workflowRun = (type: 'standard' | 'express'): RunProfile => ({
    name: `${workflow.steps}-step workflow (${workflow.name})`,
    workflowType: type,
    stateTransitions: workflow.transitions,
    expressDurationMs:
      workflow.stepsOnCriticalPath * pipelineMs + workflow.transitions * a.transitionOverheadMs,
    expressMemoryMb: a.expressMemoryMb,
    lambda: [use(submit, a), stepLambda, statusUse],
    readUnits: apiUnits.read + workflow.steps * pipelineUnits.read,
    writeUnits: apiUnits.write + workflow.steps * pipelineUnits.write,
    apiRequests: 1 + a.statusReadsPerRun,
    sqsRequests: 0,
  });
  const nested: RunProfile = {
    ...workflowRun('standard'),
    name: `${workflow.steps}-step workflow, each step a nested pipeline`,
    stateTransitions: workflow.transitions + workflow.steps * pipeline.transitions,
    lambda: [
      use(submit, a),
      ...pipelineUses.map((u) => ({ ...u, invocations: u.invocations * workflow.steps })),
      statusUse,
    ],
  };

  return [
    task('standard'),
    task('express'),
    task('standard', true),
    workflowRun('standard'),
    workflowRun('express'),
    nested,
  ].map((profile) => row(profile, prices));
}
