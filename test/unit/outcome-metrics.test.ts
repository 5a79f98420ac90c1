import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallObservation } from '../../lib/core/statistics.ts';
import type { RunStepPayload } from '../../lib/core/workflow/step-runner.ts';
import {
  FACTORY_SERVICE_DIMENSION,
  failedRunOf,
  OUTCOME_METRICS,
  publishFactoryCalls,
  publishFailedRun,
  WORKFLOW_DIMENSION,
} from '../../lib/handler/outcome-metrics.ts';
import { captureEmf, type EmfLine } from '../helpers/emf.ts';

const call = (service: string, success: boolean): CallObservation => ({
  taskType: 'blog_post',
  service,
  success,
  timedOut: false,
  latencyMs: 40,
  at: '2026-01-15T10:00:00.000Z',
});

let lines: EmfLine[];
beforeEach(() => {
  lines = captureEmf();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('publishFactoryCalls', () => {
  it('writes one line per service: its calls, and a 0/1 failure value per call, under its own dimension', () => {
    publishFactoryCalls([
      call('writer-ai', false),
      call('writer-ai', true),
      call('image-ai', true),
      call('writer-ai', false),
    ]);
    expect(lines).toHaveLength(2);
    const [writer, image] = lines;
    expect(writer?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'VoBee',
        Dimensions: [['service', FACTORY_SERVICE_DIMENSION]],
        Metrics: [
          { Name: OUTCOME_METRICS.factoryCalls, Unit: 'Count' },
          { Name: OUTCOME_METRICS.factoryCallFailures, Unit: 'Count' },
        ],
      },
    ]);
    expect(writer).toMatchObject({
      service: 'vobee',
      [FACTORY_SERVICE_DIMENSION]: 'writer-ai',
      [OUTCOME_METRICS.factoryCalls]: 3,
      [OUTCOME_METRICS.factoryCallFailures]: [1, 0, 1],
    });
    expect(image).toMatchObject({
      [FACTORY_SERVICE_DIMENSION]: 'image-ai',
      [OUTCOME_METRICS.factoryCalls]: 1,
      [OUTCOME_METRICS.factoryCallFailures]: 0,
    });
  });

  it('keeps the dimension on every line when a service has more calls than one line holds', () => {
    publishFactoryCalls(Array.from({ length: 150 }, (_, i) => call('busy-ai', i % 3 !== 0)));
    expect(lines.map((l) => [l[FACTORY_SERVICE_DIMENSION], l[OUTCOME_METRICS.factoryCalls]])).toEqual([
      ['busy-ai', 99],
      ['busy-ai', 51],
    ]);
    const failures = lines.flatMap((l) => l[OUTCOME_METRICS.factoryCallFailures] as number[]);
    expect(failures.filter((v) => v === 1)).toHaveLength(50);
  });

  it('writes nothing for no calls', () => {
    publishFactoryCalls([]);
    expect(lines).toEqual([]);
  });
});

describe('publishing factory calls that cannot be published', () => {
  it('logs and returns, so the write of the calls goes on', () => {
    vi.spyOn(Metrics.prototype, 'publishStoredMetrics').mockImplementation(() => {
      throw new Error('cannot publish');
    });
    expect(() => publishFactoryCalls([call('writer-ai', true)])).not.toThrow();
    expect(Metrics.prototype.publishStoredMetrics).toHaveBeenCalled();
  });
});

describe('failed workflow runs', () => {
  const run = {
    executionId: 'arn:aws:states:eu-west-1:123456789012:execution:wf:run-1',
    workflowId: 'publishing',
  };
  const failed = (endsRun: boolean, error = 'StepFailed') =>
    ({ ...run, failed: { stepId: 'publish', endsRun }, error }) as RunStepPayload;

  it.each([
    ['a failed step that ends its run', failed(true), 'publishing'],
    ['a failed step whose run goes on', failed(false), undefined],
    ['a step that finds its run out of time', failed(false, 'WorkflowTimedOut'), 'publishing'],
    ['a step of a cancelled run', failed(true, 'WorkflowCancelled'), undefined],
    [
      'an Express run ending in failure',
      { ...run, end: { status: 'FAILED' } } as RunStepPayload,
      'publishing',
    ],
    ['an Express run ending well', { ...run, end: { status: 'SUCCEEDED' } } as RunStepPayload, undefined],
    ['a step to run', { ...run, stepId: 'publish', step: {} } as unknown as RunStepPayload, undefined],
  ])('%s', (_, payload, workflowId) => {
    expect(failedRunOf(payload)).toBe(workflowId);
  });

  it('publishes a failed run under the workflow dimension', () => {
    publishFailedRun('publishing');
    expect(lines).toHaveLength(1);
    expect(lines[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', WORKFLOW_DIMENSION]]);
    expect(lines[0]).toMatchObject({
      [WORKFLOW_DIMENSION]: 'publishing',
      [OUTCOME_METRICS.workflowRunsFailed]: 1,
    });
  });
});
