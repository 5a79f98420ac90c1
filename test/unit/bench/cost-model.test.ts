import { describe, expect, it } from 'vitest';
import {
  type CostAssumptions,
  cloudDurationMs,
  costModel,
  costPer1000,
  cpuScale,
  defaultAssumptions,
  estimatedWorkflowUse,
  expressGbSeconds,
  initGbSeconds,
  lambdaGbSeconds,
  type MeasuredCounts,
  type MeasuredInvocation,
  type RunProfile,
  runLogBytes,
  sqsRequestsPerMessage,
} from '../../../bench/cost-model.ts';
import { PRICES, type PriceTable } from '../../../bench/prices.ts';

/** Round prices, so every expected figure below can be worked out by hand. */
const ROUND: PriceTable = {
  ...PRICES,
  stepFunctions: {
    standardPerTransition: 0.00003,
    expressPerRequest: 0.000001,
    expressPerGbSecond: 0.00002,
    expressMemoryChunkMb: 64,
    expressDurationStepMs: 100,
  },
  lambda: {
    architecture: 'arm64',
    perRequest: 0.0000002,
    perGbSecond: 0.00001,
    initBilledFrom: '2025-08-01',
  },
  dynamodb: { perWriteRequestUnit: 0.000001, perReadRequestUnit: 0.0000002 },
  apiGateway: { httpApiPerRequest: 0.000001 },
  sqs: { standardPerRequest: 0.0000004 },
  cloudWatchLogs: { ingestionPerGb: 0.5, bytesPerGb: 1_000_000 },
};

const profile: RunProfile = {
  name: 'task',
  workflowType: 'standard',
  stateTransitions: 8,
  expressDurationMs: 1_250,
  expressMemoryMb: 64,
  lambda: [
    { name: 'A', invocations: 2, durationMs: 99.2, memoryMb: 512, initMs: 199.5, logBytes: 1_000 },
    { name: 'B', invocations: 1, durationMs: 1_000, memoryMb: 1_024, initMs: 300, logBytes: 500 },
  ],
  coldStartShare: 0.01,
  readUnits: 2.5,
  writeUnits: 30,
  apiRequests: 2,
  sqsRequests: 3,
  otherLogBytes: 700,
};

describe('the cost arithmetic', () => {
  it('rounds each Lambda invocation up to the millisecond', () => {
    // 2 x 0.5 GB x 0.100 s + 1 x 1 GB x 1 s
    expect(lambdaGbSeconds(profile.lambda)).toBeCloseTo(1.1, 12);
  });

  it('bills INIT on the cold-start share of the invocations, each INIT rounded up to the millisecond', () => {
    // 2 x 0.01 x 0.5 GB x 0.200 s + 1 x 0.01 x 1 GB x 0.300 s
    expect(initGbSeconds(profile.lambda, 0.01)).toBeCloseTo(0.002 + 0.003, 12);
    expect(initGbSeconds(profile.lambda, 0)).toBe(0);
  });

  it('bills Express by 100 ms steps and 64 MB chunks, at least one of each', () => {
    expect(expressGbSeconds(1, 1, ROUND)).toBeCloseTo((64 / 1024) * 0.1, 12);
    expect(expressGbSeconds(101, 64, ROUND)).toBeCloseTo((64 / 1024) * 0.2, 12);
    expect(expressGbSeconds(1_250, 65, ROUND)).toBeCloseTo((128 / 1024) * 1.3, 12);
  });

  it("adds up the log bytes of every invocation and the run's other logs", () => {
    expect(runLogBytes(profile)).toBe(2 * 1_000 + 500 + 700);
  });

  it('prices 1,000 Standard runs part by part', () => {
    const cost = costPer1000(profile, ROUND);
    expect(cost.stepFunctions).toBeCloseTo(1_000 * 8 * 0.00003, 12);
    expect(cost.lambdaRequests).toBeCloseTo(1_000 * 3 * 0.0000002, 12);
    expect(cost.lambdaDuration).toBeCloseTo(1_000 * 1.1 * 0.00001, 12);
    expect(cost.lambdaInit).toBeCloseTo(1_000 * 0.005 * 0.00001, 12);
    expect(cost.dynamodb).toBeCloseTo(1_000 * (2.5 * 0.0000002 + 30 * 0.000001), 12);
    expect(cost.apiGateway).toBeCloseTo(1_000 * 2 * 0.000001, 12);
    expect(cost.sqs).toBeCloseTo(1_000 * 3 * 0.0000004, 12);
    // 3,200 bytes of 1,000,000 per GB at $0.5
    expect(cost.logs).toBeCloseTo(1_000 * 0.0032 * 0.5, 12);
    expect(cost.total).toBeCloseTo(0.24 + 0.0006 + 0.011 + 0.00005 + 0.0305 + 0.002 + 0.0012 + 1.6, 12);
  });

  it('prices Express runs by request and duration, and a run without a state machine at nothing for it', () => {
    const express = costPer1000({ ...profile, workflowType: 'express' }, ROUND);
    expect(express.stepFunctions).toBeCloseTo(1_000 * (0.000001 + (64 / 1024) * 1.3 * 0.00002), 12);
    expect(express.lambdaDuration).toBeCloseTo(1_000 * 1.1 * 0.00001, 12);
    expect(costPer1000({ ...profile, workflowType: 'none' }, ROUND).stepFunctions).toBe(0);
  });
});

const invocation = (name: string, patch: Partial<MeasuredInvocation> = {}): MeasuredInvocation => ({
  name,
  localMs: 10,
  localDbMs: 8,
  dbRoundTrips: 1,
  factoryMs: 0,
  logBytes: 0,
  ...patch,
});

const measured: MeasuredCounts = {
  task: {
    submit: invocation('SubmitTask', { logBytes: 100 }),
    worker: invocation('TaskWorker', { localMs: 15, dbRoundTrips: 2, factoryMs: 3, logBytes: 200 }),
    status: invocation('GetTask', { localMs: 6, localDbMs: 4 }),
    readRequests: 0.5,
    writeRequests: 3,
    readUnits: 0.5,
    writeUnits: 7,
    statusReadUnits: 1,
  },
  workflow: {
    name: 'w',
    steps: 4,
    stepsOnCriticalPath: 3,
    standardTransitions: 5,
    expressTransitions: 6,
    readRequests: 3,
    writeRequests: 14,
    readUnits: 3,
    writeUnits: 30,
    requestsSource: 'test',
  },
  processInitMs: { SubmitTask: 100 },
  memoryMb: {
    SubmitTask: 512,
    TaskWorker: 512,
    GetTask: 512,
    StartExecution: 512,
    GetExecution: 512,
    RunWorkflowStep: 512,
  },
};

describe('the cost model', () => {
  // One vCPU at 1,024 MB: local compute counts twice at 512 MB.
  const a: CostAssumptions = {
    ...defaultAssumptions(),
    vcpuMb: 1_024,
    dynamoRoundTripMs: 10,
    factoryWaitMs: 500,
    coldStartShare: 0.01,
    initMs: 250,
    platformLogBytes: 300,
    apiAccessLogBytes: 400,
    stepFunctionsCallMs: 20,
    statusReadsPerRun: 1,
    loadBatchSize: 10,
    transitionOverheadMs: 10,
    workflowStart: { reads: 3, writes: 2, stepFunctionsCalls: 2 },
    workflowStatus: { reads: 2, stepFunctionsCalls: 1 },
    stepExtraWrites: 1,
    runEndWriteUnits: 1,
  };

  it("scales local compute to Lambda's CPU share, never above one vCPU's speed", () => {
    expect(cpuScale(512, a)).toBe(2);
    expect(cpuScale(2_048, a)).toBe(1);
  });

  it('turns a local invocation into a Lambda duration', () => {
    // (10 - 8) x 2 + 1 x 10
    expect(cloudDurationMs(invocation('x'), 512, a)).toBe(14);
    // (15 - 8 - 3) x 2 + 2 x 10 + 500
    expect(cloudDurationMs(measured.task.worker, 512, a)).toBe(528);
    // No negative compute; other waits added as given.
    expect(cloudDurationMs(invocation('x', { localMs: 5 }), 512, a, 7)).toBe(17);
    // A batch of 10: the compute of each in turn, the waits at once: (15 - 8 - 3) x 2 x 10 + 20 + 500
    expect(cloudDurationMs(measured.task.worker, 512, a, 0, 10)).toBe(600);
  });

  it('shares the receive and the delete of a batch between its messages', () => {
    expect(sqsRequestsPerMessage(1)).toBe(3);
    expect(sqsRequestsPerMessage(10)).toBeCloseTo(1.2, 12);
  });

  it('prices a single task: three invocations, three SQS requests, two API requests', () => {
    const [task] = costModel(measured, a, ROUND);
    expect(task?.workflowType).toBe('none');
    expect(task?.profile.lambda.map((u) => [u.name, u.durationMs, u.initMs, u.logBytes])).toEqual([
      ['SubmitTask', 14, 100, 400],
      ['TaskWorker', 528, 250, 500],
      ['GetTask', 14, 250, 300],
    ]);
    expect(task?.perRun).toMatchObject({
      stateTransitions: 0,
      lambdaInvocations: 3,
      readUnits: 0.5 + 1,
      writeUnits: 7,
      apiRequests: 2,
      sqsRequests: 3,
      // 400 + 500 + 300 from the functions, 2 x 400 of API access logs
      logBytes: 2_000,
    });
    expect(task?.perRun.lambdaGbSeconds).toBeCloseTo(0.5 * (0.014 + 0.528 + 0.014), 12);
    // SubmitTask's INIT is its measured process init, the others the assumed 250 ms
    expect(task?.perRun.initGbSeconds).toBeCloseTo(0.01 * 0.5 * (0.1 + 0.25 + 0.25), 12);
    expect(task?.per1000.stepFunctions).toBe(0);
  });

  it('prices a task at load: ten to a worker invocation, sharing its wait, its receive and its delete', () => {
    const [alone, atLoad] = costModel(measured, a, ROUND);
    expect(atLoad?.profile.lambda.map((u) => [u.name, u.invocations, u.durationMs])).toEqual([
      ['SubmitTask', 1, 14],
      ['TaskWorker', 0.1, 600],
      ['GetTask', 1, 14],
    ]);
    expect(atLoad?.perRun.sqsRequests).toBeCloseTo(1.2, 12);
    // one worker's log lines (200 B) per ten tasks
    expect(atLoad?.perRun.logBytes).toBeCloseTo(2_000 - 500 + 0.1 * 500, 9);
    expect(atLoad?.per1000.dynamodb).toBe(alone?.per1000.dynamodb);
    expect(atLoad?.per1000.total).toBeLessThan(alone?.per1000.total ?? 0);
  });

  it('prices a Standard workflow from the task measurements: steps as the worker, the API as submit and read', () => {
    const [, , standard] = costModel(measured, a, ROUND);
    expect(standard?.workflowType).toBe('standard');
    expect(standard?.profile.lambda.map((u) => [u.name, u.invocations, u.durationMs])).toEqual([
      // SubmitTask's compute, 3 + 2 rounds, two Step Functions calls: 4 + 50 + 40
      ['StartExecution', 1, 94],
      // the worker and one more round: 528 + 10
      ['RunWorkflowStep', 4, 538],
      // GetTask's compute, 2 rounds, one Step Functions call: 4 + 20 + 20
      ['GetExecution', 1, 44],
    ]);
    expect(standard?.perRun).toMatchObject({
      stateTransitions: 5,
      lambdaInvocations: 6,
      // the run's measured 3 RRU + 2 status reads at 1 RRU
      readUnits: 5,
      // as measured
      writeUnits: 30,
      apiRequests: 2,
      sqsRequests: 0,
    });
    expect(standard?.per1000.stepFunctions).toBeCloseTo(1_000 * 5 * 0.00003, 12);
  });

  it('prices the Express run by its critical path, with one more invocation and write to record its end', () => {
    const [, , standard, express] = costModel(measured, a, ROUND);
    // 3 steps of 538 ms in a row, 6 states at 10 ms
    expect(express?.perRun.expressDurationMs).toBe(3 * 538 + 60);
    expect(express?.perRun.stateTransitions).toBe(0);
    expect(express?.perRun.lambdaInvocations).toBe(7);
    // the end record: the worker's compute without its factory wait, (15 - 3 - 8) x 2, and one round
    expect(express?.profile.lambda.find((u) => u.name.includes('record end'))?.durationMs).toBe(18);
    expect(express?.perRun.writeUnits).toBe((standard?.perRun.writeUnits ?? 0) + 1);
    expect(express?.per1000.stepFunctions).toBeCloseTo(1_000 * (0.000001 + (64 / 1024) * 1.7 * 0.00002), 12);
  });

  it('prices only the task when no workflow was measured', () => {
    expect(costModel({ ...measured, workflow: undefined }, a, ROUND).map((r) => r.workflowType)).toEqual([
      'none',
      'none',
    ]);
  });

  it('estimates a run’s requests as a task per step plus the start handler, at the task’s units per request', () => {
    expect(estimatedWorkflowUse(measured.task, 4, a)).toEqual({
      readRequests: 4 * 0.5 + 3,
      writeRequests: 4 * 3 + 2,
      // 1 RRU per read (0.5 / 0.5), 7 / 3 WRU per write
      readUnits: 5,
      writeUnits: 14 * (7 / 3),
    });
  });
});
