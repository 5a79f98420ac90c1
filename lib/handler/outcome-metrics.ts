import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CallObservation } from '../core/statistics.ts';
import type { RunStepPayload } from '../core/workflow/step-runner.ts';
import { logger } from './observability.ts';

/**
 * Outcomes with a dimension of their own, for the alarms and the dashboard: factory calls per
 * service, and workflow runs that failed per workflow. Services and workflows are registered at
 * run time, so their names are dimension values, which the alarms query with Metrics Insights.
 *
 * Each line is written by a `Metrics` of its own and published at once (as `singleMetric()` does),
 * so its dimension never reaches the metrics an invocation buffers in the shared `metrics`, which
 * it would split. Like every Powertools metric it is an EMF log line: no request of its own.
 */
export const OUTCOME_METRICS = {
  /** Settled factory calls of one service (`Sum`). */
  factoryCalls: 'FactoryCallsByService',
  /**
   * One value per settled call of one service: 1 if it failed, 0 if it succeeded. `Sum` is the
   * failures, `SampleCount` the calls and `Average` the failure rate, which a Metrics Insights
   * query can alarm on (it cannot divide one metric by another).
   */
  factoryCallFailures: 'FactoryCallFailuresByService',
  /** Workflow runs the step handler recorded as failed or timed out, per workflow (`Sum`). */
  workflowRunsFailed: 'WorkflowRunsFailed',
} as const;

/**
 * The factory service's name. Not `service`: Powertools puts that dimension on every metric (the
 * `POWERTOOLS_SERVICE_NAME`, `vobee`), and overwriting it logs a warning at every line.
 */
export const FACTORY_SERVICE_DIMENSION = 'factory_service';
export const WORKFLOW_DIMENSION = 'workflow';

/** Powertools flushes a metric at 100 values (its EMF limit), dropping the line's dimensions: stay below. */
const VALUES_PER_LINE = 99;

/** One EMF line with `dimension` set to `value` and whatever `add` puts on it. */
function publishLine(dimension: string, value: string, add: (line: Metrics) => void): void {
  const line = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'VoBee',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vobee',
    logger,
  });
  line.addDimension(dimension, value);
  add(line);
  line.publishStoredMetrics();
}

/**
 * Publishes, per service, how many of `calls` settled and which of them failed. A metric that
 * cannot be published is logged: it never fails the write of the calls that follows.
 */
export function publishFactoryCalls(calls: readonly CallObservation[]): void {
  try {
    const failedByService = Map.groupBy(calls, (call) => call.service);
    for (const [service, serviceCalls] of failedByService) {
      const failed = serviceCalls.map((call) => (call.success ? 0 : 1));
      for (let start = 0; start < failed.length; start += VALUES_PER_LINE) {
        const chunk = failed.slice(start, start + VALUES_PER_LINE);
        publishLine(FACTORY_SERVICE_DIMENSION, service, (line) => {
          line.addMetric(OUTCOME_METRICS.factoryCalls, MetricUnit.Count, chunk.length);
          for (const value of chunk)
            line.addMetric(OUTCOME_METRICS.factoryCallFailures, MetricUnit.Count, value);
        });
      }
    }
  } catch (error) {
    logger.warn('factory call metrics not published', { error });
  }
}

/**
 * The workflow whose run `payload` ends in failure, if it does: a failed step that ends its run
 * (`on_failure: 'fail'`) or finds the run out of time, or an Express run reporting a failed end.
 * A step failing because its run was cancelled is not a failure.
 */
export function failedRunOf(payload: RunStepPayload): string | undefined {
  if ('end' in payload) return payload.end.status === 'FAILED' ? payload.workflowId : undefined;
  if (!('failed' in payload)) return undefined;
  if (payload.error === 'WorkflowCancelled') return undefined;
  return payload.failed.endsRun || payload.error === 'WorkflowTimedOut' ? payload.workflowId : undefined;
}

/** Publishes one failed run of `workflowId`. */
export function publishFailedRun(workflowId: string): void {
  publishLine(WORKFLOW_DIMENSION, workflowId, (line) =>
    line.addMetric(OUTCOME_METRICS.workflowRunsFailed, MetricUnit.Count, 1),
  );
}
