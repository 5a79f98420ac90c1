import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { StepAnswer, StepPayload } from '../../lib/core/workflow/step-runner.ts';
import { metrics } from '../../lib/handler/observability.ts';
import { stepHandler } from '../../lib/handler/pipeline-step.ts';
import { orchestrator } from '../../lib/handler/runtime.ts';

/**
 * One step of a compiled workflow: honours pause and cancel, runs the step's task through the
 * pipeline (fallbacks included) and records the step. A failure is thrown for the state
 * machine's Retry and Catch.
 */
export const handler = stepHandler<StepPayload, StepAnswer>('stepId', async (payload) => {
  const answer = await orchestrator().steps.run(payload);
  metrics.addMetric(
    `WorkflowStep${answer.status === 'SUCCEEDED' ? 'Succeeded' : answer.status === 'SKIPPED' ? 'Skipped' : 'AwaitingCallback'}`,
    MetricUnit.Count,
    1,
  );
  return answer;
});
