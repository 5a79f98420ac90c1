import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type RunStepPayload,
  type StepAnswer,
  WorkflowTimedOut,
} from '../../lib/core/workflow/step-runner.ts';
import { metrics, observed } from '../../lib/handler/observability.ts';
import { failedRunOf, publishFailedRun } from '../../lib/handler/outcome-metrics.ts';
import { stepRunner } from '../../lib/wiring/step-runner.ts';

/**
 * One step of a compiled workflow: honours pause and cancel, runs the step's task (fallbacks
 * included), records the step and opens the gates waiting for it. A failure is thrown for the
 * state machine's Retry and Catch. Gates, failure records and an Express run's end come
 * through here too.
 */
export const handler = observed<RunStepPayload, StepAnswer>('stepId').handler(async (payload) => {
  // A failed run is counted once its end is recorded: when the handler answers, or throws that
  // the run timed out (after recording it). Any other error is retried and counted then.
  const failedRun = failedRunOf(payload);
  const answer = await stepRunner()
    .run(payload)
    .catch((error: unknown) => {
      if (failedRun !== undefined && error instanceof WorkflowTimedOut) publishFailedRun(failedRun);
      throw error;
    });
  if (failedRun !== undefined) publishFailedRun(failedRun);
  metrics.addMetric(
    `WorkflowStep${answer.status[0]}${answer.status.slice(1).toLowerCase()}`,
    MetricUnit.Count,
    1,
  );
  return answer;
});
