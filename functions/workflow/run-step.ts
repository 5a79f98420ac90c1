import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RunEndPayload } from '../../lib/core/workflow/compile.ts';
import type { StepAnswer, StepPayload } from '../../lib/core/workflow/step-runner.ts';
import { metrics, observed } from '../../lib/handler/observability.ts';
import { stepRunner } from '../../lib/wiring/step-runner.ts';

/**
 * One step of a compiled workflow: honours pause and cancel, runs the step's task (fallbacks
 * included) and records the step. A failure is thrown for the state machine's Retry and Catch.
 * An Express run also records its end through here.
 */
export const handler = observed<StepPayload | RunEndPayload, StepAnswer>('stepId').handler(
  async (payload) => {
    const answer = await stepRunner().run(payload);
    metrics.addMetric(
      `WorkflowStep${answer.status[0]}${answer.status.slice(1).toLowerCase()}`,
      MetricUnit.Count,
      1,
    );
    return answer;
  },
);
