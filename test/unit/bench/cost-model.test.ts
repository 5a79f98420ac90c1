import { describe, expect, it } from 'vitest';
import {
  cloudDurationMs,
  costModel,
  costPer1000,
  defaultAssumptions,
  expressGbSeconds,
  lambdaGbSeconds,
  type MeasuredCounts,
  type MeasuredInvocation,
  type RunProfile,
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
  lambda: { architecture: 'arm64', perRequest: 0.0000002, perGbSecond: 0.00001 },
  dynamodb: { perWriteRequestUnit: 0.000001, perReadRequestUnit: 0.0000002 },
  apiGateway: { httpApiPerRequest: 0.000001 },
  sqs: { standardPerRequest: 0.0000004 },
};

const profile: RunProfile = {
  name: 'task',
  workflowType: 'standard',
  stateTransitions: 8,
  expressDurationMs: 1_250,
  expressMemoryMb: 64,
  lambda: [
    { name: 'A', invocations: 2, durationMs: 99.2, memoryMb: 512 },
    { name: 'B', invocations: 1, durationMs: 1_000, memoryMb: 1_024 },
  ],
  readUnits: 2.5,
  writeUnits: 30,
  apiRequests: 2,
  sqsRequests: 3,
};

describe('the cost arithmetic', () => {
  it('rounds each Lambda invocation up to the millisecond', () => {
    // 2 x 0.5 GB x 0.100 s + 1 x 1 GB x 1 s
    expect(lambdaGbSeconds(profile.lambda)).toBeCloseTo(1.1, 12);
  });

  it('bills Express by 100 ms steps and 64 MB chunks, at least one of each', () => {
    expect(expressGbSeconds(1, 1, ROUND)).toBeCloseTo((64 / 1024) * 0.1, 12);
    expect(expressGbSeconds(101, 64, ROUND)).toBeCloseTo((64 / 1024) * 0.2, 12);
    expect(expressGbSeconds(1_250, 65, ROUND)).toBeCloseTo((128 / 1024) * 1.3, 12);
  });

  it('prices 1,000 Standard runs part by part', () => {
    const cost = costPer1000(profile, ROUND);
    expect(cost.stepFunctions).toBeCloseTo(1_000 * 8 * 0.00003, 12);
    expect(cost.lambdaRequests).toBeCloseTo(1_000 * 3 * 0.0000002, 12);
    expect(cost.lambdaCompute).toBeCloseTo(1_000 * 1.1 * 0.00001, 12);
    expect(cost.dynamodb).toBeCloseTo(1_000 * (2.5 * 0.0000002 + 30 * 0.000001), 12);
    expect(cost.apiGateway).toBeCloseTo(1_000 * 2 * 0.000001, 12);
    expect(cost.sqs).toBeCloseTo(1_000 * 3 * 0.0000004, 12);
    const { total, ...parts } = cost;
    expect(total).toBeCloseTo(
      Object.values(parts).reduce((a, b) => a + b, 0),
      12,
    );
  });

  it('prices Express runs by request and duration, not by transition', () => {
    const cost = costPer1000({ ...profile, workflowType: 'express' }, ROUND);
    expect(cost.stepFunctions).toBeCloseTo(1_000 * (0.000001 + (64 / 1024) * 1.3 * 0.00002), 12);
    expect(cost.lambdaCompute).toBeCloseTo(costPer1000(profile, ROUND).lambdaCompute, 12);
  });
});

const step = (name: string, patch: Partial<MeasuredInvocation> = {}): MeasuredInvocation => ({
  name,
  invocationsPerRun: 1,
  localMs: 10,
  localDbMs: 8,
  dbRoundTrips: 2,
  dbCalls: 3,
  readUnits: 1,
  writeUnits: 4,
  factoryMs: 0,
  ...patch,
});

const measured: MeasuredCounts = {
  pipeline: {
    transitions: 8,
    steps: [step('Decide'), step('CallFactory', { localMs: 15, factoryMs: 3 }), step('Record')],
  },
  submit: step('SubmitTask', { readUnits: 0, writeUnits: 2 }),
  status: step('GetTask', { readUnits: 1, writeUnits: 0, dbRoundTrips: 1 }),
  workflow: { name: 'w', steps: 4, transitions: 6, stepsOnCriticalPath: 3 },
};

describe('the cost model', () => {
  const a = { ...defaultAssumptions(512), cpuScale: 2, dynamoRoundTripMs: 10, factoryWaitMs: 500 };

  it('turns a local invocation into a Lambda duration', () => {
    // (10 - 8) x 2 + 2 x 10
    expect(cloudDurationMs(step('Decide'), a)).toBe(24);
    // (15 - 8 - 3) x 2 + 2 x 10 + 500
    expect(cloudDurationMs(step('CallFactory', { localMs: 15, factoryMs: 3 }), a)).toBe(528);
    expect(cloudDurationMs(step('x', { localMs: 5, localDbMs: 8 }), a)).toBe(20);
  });

  it('counts what a single task and a workflow use', () => {
    const rows = costModel(measured, a, ROUND);
    const [task, express, queued, workflow, workflowExpress, nested] = rows;
    expect(task?.perRun).toMatchObject({
      stateTransitions: 8,
      lambdaInvocations: 5,
      readUnits: 1 + 3,
      writeUnits: 2 + 12,
      apiRequests: 2,
      sqsRequests: 0,
    });
    // Decide 24 + CallFactory 528 + Record 24, then 8 states at 10 ms.
    expect(express?.perRun.expressDurationMs).toBe(576 + 80);
    expect(queued?.perRun).toMatchObject({ apiRequests: 1, sqsRequests: 3, lambdaInvocations: 5 });
    expect(workflow?.perRun).toMatchObject({
      stateTransitions: 6,
      lambdaInvocations: 1 + 4 + 1,
      readUnits: 1 + 4 * 3,
      writeUnits: 2 + 4 * 12,
    });
    expect(workflowExpress?.perRun.expressDurationMs).toBe(3 * 576 + 60);
    expect(nested?.perRun).toMatchObject({ stateTransitions: 6 + 4 * 8, lambdaInvocations: 1 + 4 * 3 + 1 });
    expect(task?.per1000.stepFunctions).toBeCloseTo(1_000 * 8 * 0.00003, 12);
  });
});
