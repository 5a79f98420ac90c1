import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RunStepPayload, StepAnswer } from '../../lib/core/workflow/step-runner.ts';
import { metrics, observed } from '../../lib/handler/observability.ts';
import { stepRunner } from '../../lib/wiring/step-runner.ts';

/**
 * One step of a compiled workflow: honours pause and cancel, runs the step's task (fallbacks
 * included), records the step and opens the gates waiting for it. A failure is thrown for the
 * state machine's Retry and Catch. Gates, failure records and an Express run's end come
 * through here too.
 */
export const handler = observed<RunStepPayload, StepAnswer>('stepId').handler(async (payload) => {
  const answer = await stepRunner().run(payload);
  metrics.addMetric(
    `WorkflowStep${answer.status[0]}${answer.status.slice(1).toLowerCase()}`,
    MetricUnit.Count,
    1,
  );
  return answer;
});
